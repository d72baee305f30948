// The per-request option `token` (axios's request config, fetch's `init`) and the scope it picks.
// One reading for every client: `false` sends the request as it is, `{ scope }` wins over the
// wrapper's `scope` option, anything else is a mistake caught before anything is sent.
import { describeValue } from '../options.js';

/** What a request (or an axios instance, through `axios.create`) may say about its token. */
export interface TokenRequestOptions {
  /** The scope to get a token for (a non-empty string); wins over the instance's and `attachToken`'s. */
  scope?: string | undefined;
  /**
   * The end user's token (with or without `Bearer `) to act for, for a source that acts on behalf
   * of a user (`onBehalfOf()`): wins over the user of the async context, so a call made from a
   * callback that runs in another request's context (a pooled callback client) still goes as this
   * request's user. `undefined` leaves the choice to the context. Sources that get tokens for the
   * app itself ignore it.
   */
  user?: string | undefined;
}

/**
 * The request option `token` is `false`, `undefined`/`null` or `{ scope?: string, user?: string }`; anything else
 * is a mistake that must not quietly become the default scope (a token for another audience). A
 * string is not taken as shorthand for `{ scope }`: `token: 'x'` reads as if it were the token.
 */
export function checkTokenOption(option: unknown): void {
  if (typeof option !== 'object' || Array.isArray(option)) {
    const hint = typeof option === 'string' ? `: a scope goes in an object, token: { scope: ${describeValue(option)} }` : '';
    throw new TypeError(`axios-m2m: expected the request option token to be false, undefined or { scope: string }, got ${describeValue(option)}${hint}`);
  }
  const { scope, user } = option as { scope?: unknown; user?: unknown };
  if (user !== undefined && (typeof user !== 'string' || user.trim() === '')) {
    // An empty one must not quietly leave the choice to the context; and a string is never quoted:
    // it may be a token.
    const got = typeof user === 'string' ? 'an empty string' : describeValue(user);
    throw new TypeError(`axios-m2m: expected the request option token.user to be the user's token (a non-empty string), got ${got}`);
  }
  if (scope !== undefined && (typeof scope !== 'string' || scope === '')) {
    throw new TypeError(
      `axios-m2m: expected the request option token.scope to be a non-empty string, got ${describeValue(scope)}: ` +
        'leave scope out for the default scope, or write token: false for no token',
    );
  }
}

/**
 * The scope of one request: the request's own `token.scope`, else the wrapper's `scope` (a string,
 * or a function of the request returning one or `undefined`). No scope at all is a mistake in the
 * calling code, so a `TypeError` as every such mistake is (the request is rejected before anything
 * is sent), named with the request (`described`, e.g. "GET /things") and how to
 * give one (`remedy`, in the words of the wrapper the caller used).
 */
export function scopeFor<R>(
  option: { scope?: string | undefined } | null | undefined,
  fallback: string | ((request: R) => string | undefined) | undefined,
  request: R,
  described: (request: R) => string,
  remedy: string,
): string {
  const scope = option?.scope ?? (typeof fallback === 'function' ? fallback(request) : fallback);
  if (typeof scope === 'string' && scope !== '') return scope;
  if (scope === undefined) {
    throw new TypeError(`axios-m2m: no scope for ${described(request)}: ${remedy}`);
  }
  throw new TypeError(`axios-m2m: expected the scope function to return a non-empty string or undefined, got ${describeValue(scope)}`);
}
