// The one retry of a request whose token was refused, for every client: whether the request may be
// sent again, and which token it goes with. Shared by the axios interceptor and the fetch wrapper
// so that a 401 storm behaves alike through both: N requests refused with one token cause one
// forced refresh (the source's single-flight joins concurrent forced refreshes), and a request that
// was refused with a token that has since been replaced takes the replacement without a refresh.
import type { AccessToken, TokenSource } from '../types.js';

/**
 * Whether a request body can be sent a second time. Strings, `URLSearchParams`, `Blob`,
 * `ArrayBuffer` and its views, `FormData` and plain objects (axios serialises them again) can;
 * a stream (Node's `pipe`, a WHATWG `ReadableStream`, any async iterable) was consumed by the first
 * attempt, and replaying it would send an empty or partial body.
 */
export function isReplayable(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return true;
  const value = body as Record<string | symbol, unknown>;
  return !(typeof value.pipe === 'function' || typeof value.getReader === 'function' || Symbol.asyncIterator in value);
}

/** The token a refused request is retried with, and whether getting it forced a refresh. */
export interface Replacement {
  token: AccessToken;
  refreshed: boolean;
}

/**
 * A token other than the refused one: the current one if it was already replaced (another refused
 * request refreshed it first), else a forced refresh.
 */
export async function replacementToken(source: TokenSource, scope: string, refused: string, signal: AbortSignal | undefined, user?: string): Promise<Replacement> {
  // The same user as the refused request's, when it named one: the retry must not fall back to
  // whatever user the async context holds.
  const options = user === undefined ? { signal } : { signal, user };
  const current = await source.getToken(scope, options);
  if (current.token !== refused) return { token: current, refreshed: false };
  return { token: await source.getToken(scope, { ...options, forceRefresh: true }), refreshed: true };
}
