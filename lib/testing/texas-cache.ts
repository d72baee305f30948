import type { JWTPayload } from 'jose';
import type { Entry } from './texas-request.js';

// Texas's own cache (docs/protocols/texas.md, "Texas's own cache"), shared by the token and the
// exchange endpoints: an entry lives expires_in - 120 s when the lifetime is over 120 s, else half
// of it, so a cached token always has at least 120 s (or half its life) left.
const entryLifeMs = (entry: Entry) => (entry.lifetime > 120 ? entry.lifetime - 120 : entry.lifetime / 2) * 1000;

/** The cache, over `mint` (the upstream call for a provider and claims). */
export function createTexasCache(now: () => number, mint: (provider: string, claims: JWTPayload) => Promise<Entry>) {
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Entry>>();
  // skip_cache drops the entry and mints anew (docs/protocols/texas.md); concurrent requests for one key share one
  // mint, and a failed mint leaves nothing behind because errors are never cached. A skip_cache
  // request that arrives while a mint for its key is in flight joins that (already fresh) mint.
  return function cached(key: string, skip: boolean, provider: string, claims: () => Promise<JWTPayload>): Promise<Entry> {
    if (skip) cache.delete(key);
    const hit = cache.get(key);
    if (hit && now() < hit.mintedAt + entryLifeMs(hit)) return Promise.resolve(hit);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = claims().then((c) => mint(provider, c));
      inFlight.set(key, pending);
      pending
        .then(
          (entry) => cache.set(key, entry),
          () => {},
        )
        .finally(() => inFlight.delete(key));
    }
    return pending;
  };
}
