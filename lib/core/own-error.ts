import { TokenError, isTokenError } from '../errors.js';
import { forMessage } from '../options.js';

// Why every waiter of a shared fetch gets its own error: axios appends each caller's stack to the
// error it rejects with (Axios.request), and loggers, frameworks and users set fields on errors.
// One object shared by 5,000 waiters grew a 1.3 MB stack in 0.1.0 and took seconds to reject.
// A copy per caller is O(1) each: no copy's stack depends on how many callers there are.

/**
 * A copy of `error` for one caller of a shared fetch; changes to it reach no other caller.
 *
 * - A `TokenError` becomes a new `TokenError` with the same code, message, details, `cause` and
 *   stack (a real `Error`, so `util.types.isNativeError` still holds).
 * - Any other error a custom source throws is copied into an object of the same class (same
 *   prototype and own properties: `message`, `stack`, `cause`, `code`, …), without running its
 *   constructor, so `instanceof` and its fields keep working. A `DOMException` (an `AbortError` or
 *   `TimeoutError` from `fetch`) is rebuilt with its constructor, as its fields live in internal
 *   slots.
 * - An object that cannot be copied that way (a class whose `name` or `message` getter reads
 *   private state) is wrapped: a `TokenError` with code `unknown` and the original as `cause`.
 * - Primitives (a thrown string) cannot be changed by anyone and are passed as they are.
 */
export function ownError(error: unknown, scope: string): unknown {
  if (typeof error !== 'object' || error === null) return error;
  if (isTokenError(error)) return copyTokenError(error);
  if (error instanceof DOMException) return withStackOf(() => new DOMException(error.message, error.name), error);
  try {
    const copy = Object.create(Object.getPrototypeOf(error) as object | null, Object.getOwnPropertyDescriptors(error)) as Error;
    void String(copy.name);
    void String(copy.message);
    keepStack(copy, error as Error);
    return copy;
  } catch {
    return new TokenError('unknown', `token request for ${forMessage(scope)} failed with an error that cannot be copied`, {
      scope,
      cause: error,
    });
  }
}

function copyTokenError(error: TokenError): TokenError {
  const details = Object.fromEntries(Object.entries(error).filter(([key]) => key !== 'code'));
  return withStackOf(() => new TokenError(error.code, error.message, { ...details, cause: error.cause }), error);
}

/**
 * `make()` with the original's stack. The copy captures no stack of its own: capturing one and then
 * replacing it made V8 format it first, which cost 100-200 µs per copy (a second for 5,000).
 */
function withStackOf<E extends Error>(make: () => E, original: Error): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let copy: E;
  try {
    copy = make();
  } finally {
    Error.stackTraceLimit = limit;
  }
  keepStack(copy, original);
  return copy;
}

/**
 * The original's stack on the copy, as a plain value. From Node 22 (V8 12) an error's `stack` is an
 * accessor that reads the error's own internal slot: copied as a descriptor, it reads the copy's
 * (empty) slot and gives `undefined`. Reading it on the original formats it once; V8 keeps the
 * formatted string, so later copies cost no more.
 */
function keepStack(copy: Error, original: Error): void {
  let stack: unknown;
  try {
    stack = original.stack;
  } catch {
    return;
  }
  if (typeof stack === 'string') Object.defineProperty(copy, 'stack', { value: stack, writable: true, configurable: true, enumerable: false });
}
