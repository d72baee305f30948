import { describeValue } from '../options.js';
import type { TokenSource } from '../types.js';

/** A function that resolves to a bare bearer token, the shape SDKs take for their credentials. */
export type TokenProvider = (options?: { signal?: AbortSignal | undefined }) => Promise<string>;

/**
 * The token for one scope as a callback, from the source's cache: for SDKs that take "a function
 * that returns a bearer token" (the Azure SDK's `getBearerTokenProvider` shape, an AI SDK's
 * `headers`, a gRPC metadata callback). Each call is a cache lookup, so call it per request rather
 * than keeping the string.
 *
 * ```ts
 * const getBearer = tokenProvider(texas(), 'api://dev-gcp.team.other-api/.default');
 * const headers = { Authorization: `Bearer ${await getBearer()}` };
 * ```
 */
export function tokenProvider(source: TokenSource, scope: string): TokenProvider {
  if (typeof source?.getToken !== 'function') {
    throw new TypeError(`axios-m2m: expected source to be a TokenSource (an object with getToken), got ${describeValue(source)}`);
  }
  if (typeof scope !== 'string' || scope === '') {
    throw new TypeError(`axios-m2m: expected scope to be a non-empty string, got ${describeValue(scope)}`);
  }
  return async (options) => (await source.getToken(scope, { signal: options?.signal })).token;
}
