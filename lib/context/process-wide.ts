// State that must be one per process, however many copies of the package load. An ESM app with a
// CommonJS dependency loads both builds (dist/index.js and dist/index.cjs), and a monorepo may hold
// two installs: module-level state would be one per copy, so a user token set by one copy's
// middleware would be invisible to another copy's onBehalfOf(), and a request retried by one copy
// would be retried again by the other. Each such value hangs on globalThis under a registered
// symbol, as the error brands do, created by whichever copy loads first.
//
// The key carries the shape's version, not the package's: copies that agree on a shape share it,
// and a future change of shape takes a new key rather than misreading the old one.

/**
 * The process-wide value for `name`: the one an earlier copy made, else `create()`'s, kept for the
 * copies that load later.
 */
export function processWide<T>(name: string, version: number, create: () => T): T {
  const key = Symbol.for(`axios-m2m.${name}@${version}`);
  const holder = globalThis as unknown as Record<symbol, T | undefined>;
  let value = holder[key];
  if (value === undefined) {
    value = create();
    // Not enumerable: nothing that walks globalThis (a REPL, a leak detector) needs to see it.
    Object.defineProperty(globalThis, key, { value, enumerable: false, configurable: false, writable: false });
  }
  return value;
}
