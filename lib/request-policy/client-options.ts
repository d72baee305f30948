// The options both wrappers take alike (the axios interceptor's and the fetch wrapper's), checked
// by one rule, so that a mistake in them reads the same through either, before any request.
import { fail } from '../options.js';
import type { TokenSource } from '../types.js';

/** The shared options as a wrapper gives them. */
export interface ClientOptions {
  readonly source: TokenSource;
  readonly scope?: unknown;
  readonly retryOn?: readonly number[] | undefined;
}

/**
 * Checks `source` (an object with `getToken`), `scope` (absent, a non-empty string or a function)
 * and `retryOn` (absent or an array of integer statuses), throwing a `TypeError` naming the first
 * one wrong; returns the statuses answered by one retry with another token (default: 401).
 */
export function checkClientOptions(o: ClientOptions): readonly number[] {
  const { source, scope } = o;
  if (typeof source?.getToken !== 'function') fail('source', 'a TokenSource (an object with getToken)', source);
  if (scope !== undefined && !(typeof scope === 'string' && scope !== '') && typeof scope !== 'function') {
    fail('scope', 'a non-empty string or a function', scope);
  }
  // Read as unknown: a caller without types may pass anything.
  const retryOn: unknown = o.retryOn ?? [401];
  if (!isStatusList(retryOn)) fail('retryOn', 'an array of HTTP statuses', retryOn);
  return retryOn;
}

function isStatusList(value: unknown): value is readonly number[] {
  return Array.isArray(value) && value.every((s) => Number.isInteger(s));
}
