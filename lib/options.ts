// Checks for options, run once when a source or interceptor is created. Wrong calls in code are
// TypeErrors thrown at once ("expected X to be Y, got Z"), as undici's interceptors do; missing
// configuration from the environment is a TokenError with code `configuration` (see sources/).

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || Array.isArray(value)) return value === null ? 'null' : 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

export function fail(name: string, expected: string, value: unknown): never {
  throw new TypeError(`axios-m2m: expected ${name} to be ${expected}, got ${describeValue(value)}`);
}

export function optionalObject<T extends object>(name: string, value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(name, 'an object', value);
  return value;
}

/** A duration in milliseconds: finite, at least `min`. */
export function duration(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    fail(name, `a number of milliseconds >= ${min}`, value);
  }
  return value;
}

export function count(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(name, `an integer >= ${min}`, value);
  return value;
}

export function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(name, 'a string', value);
  return value;
}

export function optionalFunction<F extends (...args: never[]) => unknown>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(name, 'a function', value);
  return value as F;
}

export function optionalBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(name, 'a boolean', value);
  return value;
}

/**
 * A scope as the token endpoints take it: non-empty, printable ASCII. Entra ID takes exactly one
 * `/.default` resource, so whitespace is a mistake there; Maskinporten takes a space-separated list.
 */
export function assertScope(scope: unknown, { allowList = false } = {}): asserts scope is string {
  const pattern = allowList ? /^[\x21-\x7e]+( [\x21-\x7e]+)*$/ : /^[\x21-\x7e]+$/;
  if (typeof scope !== 'string' || !pattern.test(scope)) {
    fail('scope', allowList ? 'printable ASCII scopes separated by single spaces' : 'a non-empty string without whitespace', scope);
  }
}
