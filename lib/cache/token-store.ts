import { ExpiringMap, type Expiring } from '../core/expiring-map.js';
import type { AccessToken } from '../types.js';

/** A token as a fetch hands it to the store: with the moment its request was sent, to know its lifetime. */
export interface FetchedToken {
  readonly token: AccessToken;
  readonly requestedAt: number;
}

/** The two margins before expiry, both capped by a fraction of the token's lifetime. */
export interface ExpiryPolicy {
  /** Stop serving a token when less than this is left (ms), at most a tenth of its lifetime. */
  readonly expiryMargin: number;
  /** Start a background refresh when less than this is left (ms), at most a quarter of its lifetime. */
  readonly refreshAhead: number;
  /** Entries kept at most; the oldest written is evicted first. */
  readonly maxEntries: number;
}

// One object per cached scope, the map's entry itself: the token, not the fetch's record around it
// (its `requestedAt` only serves to compute the margins below, once, on `set`).
interface Entry extends Expiring {
  readonly token: AccessToken;
  /** Past this the token is never served (expiry margin); the map drops the entry then (epoch ms). */
  readonly until: number;
  /** From this on a caller triggers one background refresh (epoch ms: it follows the token's `exp`). */
  readonly refreshAt: number;
  /**
   * After a failed background refresh, no new one before this (monotonic ms, `performance.now()`):
   * a backoff is a wait, so a step of the wall clock must neither shorten nor stretch it.
   */
  retryNotBefore: number;
  /** Consecutive failed background refreshes, for the backoff. */
  failures: number;
  /** A 401 told us the API refuses this token: it is not served, and a fetch returning it again is forced. */
  rejected: boolean;
}

/** What the per-request path needs from a lookup. */
export interface Lookup {
  readonly token: AccessToken;
  readonly refreshDue: boolean;
}

// Why the lifetime fractions: Texas serves tokens from its own cache with a shrinking
// `expires_in` and never hands out one with less than 120 s (short tokens: half their lifetime)
// left. A margin that is a fixed duration could exceed what Texas gives us and turn every call into
// a request; a fraction of the lifetime we were actually given cannot (docs/protocols/texas.md,
// "Texas's own cache"). It also keeps a 5-second token cached for 4.5 s instead of never.
const SERVE_FRACTION = 0.1;
const REFRESH_FRACTION = 0.25;
const FIRST_REFRESH_BACKOFF = 1_000;
const MAX_REFRESH_BACKOFF = 30_000;

/**
 * Token storage with the expiry logic: withCache() shares in-flight fetches (lib/core/single-flight.ts),
 * this decides how long results live. `lookup` is the one read: whether a token is served, and
 * whether a refresh is due.
 *
 * The entries live in the package's one expiring map (lib/core/expiring-map.ts), each until the
 * moment it stops being served, on the epoch clock its `exp` is on: the map bounds them (oldest
 * written first) and sweeps those nobody asks for again (a user who left, a scope no longer used)
 * on a later write, so no token is kept long past its use. The rules of serving, refreshing and
 * refusing are this layer's, read from the entry (updated in place) with `peek`.
 */
export class TokenStore {
  readonly #entries: ExpiringMap<Entry>;
  readonly #policy: ExpiryPolicy;

  constructor(policy: ExpiryPolicy) {
    this.#policy = policy;
    // Read at each call, not captured once: a clock faked (or stepped) later is the one that counts.
    this.#entries = new ExpiringMap<Entry>(policy.maxEntries, () => Date.now());
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The per-request path: one map lookup and two comparisons. */
  lookup(key: string, now = Date.now()): Lookup | undefined {
    const entry = this.#entries.peek(key);
    if (entry === undefined || entry.rejected) return undefined;
    if (now >= entry.until) {
      this.#entries.delete(key); // never hold a token past its use
      return undefined;
    }
    return { token: entry.token, refreshDue: now >= entry.refreshAt && performance.now() >= entry.retryNotBefore };
  }

  set(key: string, fetched: FetchedToken): void {
    const { expiryMargin, refreshAhead } = this.#policy;
    const { token } = fetched;
    const { expiresAt } = token;
    const lifetime = Math.max(0, expiresAt - fetched.requestedAt);
    const serveUntil = expiresAt - Math.min(expiryMargin, lifetime * SERVE_FRACTION);
    const ownRule = Math.min(serveUntil, expiresAt - Math.min(refreshAhead, lifetime * REFRESH_FRACTION));
    // The issuer's own hint (Entra ID's refresh_in) may only make the refresh earlier.
    const asked = token.refreshAt;
    const refreshAt = typeof asked === 'number' && Number.isFinite(asked) ? Math.min(ownRule, asked) : ownRule;
    // A rewrite counts as the newest write; an entry already past serving is not kept.
    this.#entries.set(key, { token, until: serveUntil, refreshAt, retryNotBefore: 0, failures: 0, rejected: false });
  }

  /** Drops every entry past the moment it stops being served; returns how many. */
  sweep(now = Date.now()): number {
    return this.#entries.sweep(now);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Marks the current token of `key` as refused by an API; returns it, if there was one. */
  reject(key: string): string | undefined {
    const entry = this.#entries.peek(key);
    if (entry === undefined) return undefined;
    entry.rejected = true;
    return entry.token.token;
  }

  /** Whether `token` is the one an API refused for `key`. */
  isRejected(key: string, token: string): boolean {
    const entry = this.#entries.peek(key);
    return entry !== undefined && entry.rejected && entry.token.token === token;
  }

  /**
   * A background refresh failed: keep serving the current token and try again after an
   * exponential backoff, never later than the moment it stops being served (past `until` the
   * entry is gone, and the next caller fetches whatever the backoff says).
   */
  refreshFailed(key: string): void {
    const entry = this.#entries.peek(key);
    if (entry === undefined) return;
    const backoff = Math.min(MAX_REFRESH_BACKOFF, FIRST_REFRESH_BACKOFF * 2 ** entry.failures);
    entry.failures += 1;
    entry.retryNotBefore = performance.now() + backoff * (0.5 + Math.random() / 2);
  }
}
