import { withDeadline } from '../core/deadline.js';
import { keepAliveUntilSettled } from '../core/keep-alive.js';
import { SingleFlight, ownOutcome } from '../core/single-flight.js';
import { TokenError, failureFields } from '../errors.js';
import { channels, publish } from '../events.js';
import { count, duration, optionalFunction, optionalObject, optionalString, fail, forMessage, scopeProblem } from '../options.js';
import type { AccessToken, FetchToken, GetTokenOptions, TokenSource } from '../types.js';
import { TokenStore, type FetchedToken } from './token-store.js';

/** How long tokens are kept and reused. Every field is optional. */
export interface CacheOptions {
  /**
   * A token is no longer served when less than this is left, in milliseconds. Capped at a tenth of
   * the token's lifetime, so short tokens stay cached and no token is served after it expires.
   * @default 30_000
   */
  expiryMargin?: number | undefined;
  /**
   * A background refresh starts when less than this is left, in milliseconds, while callers keep
   * getting the current token. Capped at a quarter of the token's lifetime. A token whose issuer
   * says when to refresh it (Entra ID's `refresh_in`, see {@link AccessToken.refreshAt}) is
   * refreshed no later than that.
   * @default 60_000
   */
  refreshAhead?: number | undefined;
  /**
   * Most entries (scopes) kept; the oldest written is evicted first.
   * @default 10_000
   */
  maxEntries?: number | undefined;
  /**
   * Deadline for acquiring one token, retries included, in milliseconds. The fetch that callers
   * share ends with a `TokenError` (code `timeout`) then; a caller's own `signal` never ends it.
   * @default 30_000
   */
  timeout?: number | undefined;
  /**
   * The cache key for a scope. Sources that depend on more than the
   * scope (the user, for on-behalf-of) put that in the key.
   * @default the scope itself
   */
  cacheKey?: ((scope: string) => string) | undefined;
  /** Where tokens come from, for error messages and events (origin and path, no credentials). */
  endpoint?: string | undefined;
  /** The source's name in events (`texas`, `client_credentials`, ...). @default 'custom' */
  name?: string | undefined;
}

/** The cache options a built-in source takes (the source sets its own key, endpoint and name). */
export type SourceCacheOptions = Omit<CacheOptions, 'cacheKey' | 'endpoint' | 'name'>;

const DEFAULT_EXPIRY_MARGIN = 30_000;
const DEFAULT_REFRESH_AHEAD = 60_000;
const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_TIMEOUT = 30_000;

/** A cached {@link TokenSource}, with read-only views of its state. */
export interface CachedTokenSource extends TokenSource {
  /** Entries currently held. */
  readonly size: number;
  /** Drops every cached token (in-flight fetches still complete and are stored). */
  clear(): void;
}

/**
 * Wraps any token source, or a bare fetch function, in the package's cache: one entry per key,
 * single-flight fetches, expiry margins, refresh ahead in the background, a bounded
 * number of entries, and forced refreshes that drop a token only once and share one fetch.
 * Failures are never cached. Callers share a fetch, never its error: when a shared fetch fails,
 * each caller is rejected with its own copy (same class, code, message, details and `cause`), so
 * what one caller, or axios, does to its error reaches no other.
 */
export function withCache(source: TokenSource | FetchToken, options?: CacheOptions): CachedTokenSource {
  return new TokenCache(source, options);
}

/** Why a fetch is made: no usable token, a refresh ahead of expiry, or a token refused by an API. */
type FetchReason = 'miss' | 'ahead' | 'forced';

class TokenCache implements CachedTokenSource {
  readonly #fetch: FetchToken;
  readonly #store: TokenStore;
  /** The last scope that passed the check; the per-request path compares, and runs no regex. */
  #lastValidScope: string | undefined;
  readonly #timeout: number;
  readonly #cacheKey: (scope: string) => string;
  readonly #endpoint: string | undefined;
  readonly #name: string;
  /** One fetch in flight per key: later callers, forced or not, join it. */
  readonly #inFlight = new SingleFlight<FetchedToken>();

  constructor(source: TokenSource | FetchToken, options?: CacheOptions) {
    if (typeof source === 'function') this.#fetch = source;
    else if (typeof source?.getToken === 'function') this.#fetch = (scope, opts) => source.getToken(scope, opts);
    else fail('source', 'a TokenSource or a fetch function', source);
    const o = optionalObject('cache options', options);
    this.#store = new TokenStore({
      expiryMargin: duration('expiryMargin', o.expiryMargin, DEFAULT_EXPIRY_MARGIN),
      refreshAhead: duration('refreshAhead', o.refreshAhead, DEFAULT_REFRESH_AHEAD),
      maxEntries: count('maxEntries', o.maxEntries, DEFAULT_MAX_ENTRIES, 1),
    });
    this.#timeout = duration('timeout', o.timeout, DEFAULT_TIMEOUT, 1);
    this.#cacheKey = optionalFunction<(scope: string) => string>('cacheKey', o.cacheKey) ?? ((scope) => scope);
    this.#endpoint = optionalString('endpoint', o.endpoint);
    this.#name = optionalString('name', o.name) ?? 'custom';
  }

  get size(): number {
    return this.#store.size;
  }

  clear(): void {
    this.#store.clear();
  }

  getToken(scope: string, options?: GetTokenOptions): Promise<AccessToken> {
    // The same rule for every source, before the key or any fetch sees the scope: nothing is
    // reinterpreted (`123`, `{}`, CR/LF, '' never reach a fetch function). Built-in sources add
    // their own stricter checks (Entra ID: no whitespace) in their fetch functions.
    if (scope !== this.#lastValidScope || scope === undefined) {
      const invalid = scopeProblem(scope, { allowList: true });
      if (invalid) return Promise.reject(invalid);
      this.#lastValidScope = scope; // callers ask for one scope again and again: check it once
    }
    // A caller that has given up already gets its reason, not a fetch nobody waits for.
    if (options?.signal?.aborted) return Promise.reject(options.signal.reason);
    const key = this.#cacheKey(scope);
    let pending: Promise<FetchedToken>;
    if (options?.forceRefresh) {
      this.#store.reject(key);
      pending = this.#load(key, scope, 'forced');
    } else {
      const hit = this.#store.lookup(key);
      if (hit !== undefined) {
        if (hit.refreshDue) this.#refreshInBackground(key, scope);
        if (channels['axios-m2m:token:served'].hasSubscribers) this.#served(scope, true, 0);
        return Promise.resolve(hit.token);
      }
      pending = this.#load(key, scope, 'miss');
    }
    const waitStarted = Date.now();
    const token = pending.then((fetched) => {
      if (channels['axios-m2m:token:served'].hasSubscribers) this.#served(scope, false, Date.now() - waitStarted);
      return fetched.token;
    });
    // Waiters share the fetch, never its error, and a caller's signal ends only its own wait. This
    // caller waits (a miss, or a forced refresh, maybe joining a background fetch): the process
    // stays alive for it, as it does not for a refresh in the background.
    return keepAliveUntilSettled(ownOutcome(token, scope, options?.signal));
  }

  #served(scope: string, fromCache: boolean, duration: number): void {
    publish('axios-m2m:token:served', () => ({ scope, source: this.#name, fromCache, duration }));
  }

  #refreshInBackground(key: string, scope: string): void {
    // Joins the fetch in flight, if any. Failing is fine while the current token serves: it is
    // tried again after a backoff, and callers only see an error once no valid token is left.
    this.#load(key, scope, 'ahead').catch((error: unknown) => {
      this.#store.refreshFailed(key);
      publish('axios-m2m:refresh:error', () => ({ scope, source: this.#name, ...failureFields(error) }));
    });
  }

  /** The fetch in flight for `key`, joined, or started now; its token is stored before it settles. */
  #load(key: string, scope: string, reason: FetchReason): Promise<FetchedToken> {
    return this.#inFlight.shared(key, async () => {
      const fetched = await this.#fetchOnce(key, scope, reason);
      this.#store.set(key, fetched);
      return fetched;
    });
  }

  async #fetchOnce(key: string, scope: string, reason: FetchReason): Promise<FetchedToken> {
    if (reason !== 'miss') publish('axios-m2m:refresh:start', () => ({ scope, source: this.#name, reason }));
    let token = await this.#request(scope, reason);
    if (reason !== 'forced' && this.#store.isRejected(key, token.token)) {
      // A forced refresh joined this fetch after it had started, and the endpoint answered from
      // its own cache with the very token the API refused (Texas does so without skip_cache).
      token = await this.#request(scope, 'forced');
    }
    // The margins are fractions of the lifetime counted from the answer, not from the start of the
    // fetch: a fetch that waited out retries would otherwise make its token look longer-lived than
    // it is, and refresh it early and stop serving it early (spec/unit/interceptor/fault-soak.spec.ts).
    return { token, requestedAt: Date.now() };
  }

  /** One upstream request, with its event. */
  async #request(scope: string, reason: FetchReason): Promise<AccessToken> {
    const started = Date.now();
    const event = () => ({ scope, source: this.#name, ...(this.#endpoint !== undefined && { endpoint: this.#endpoint }), reason, duration: Date.now() - started });
    try {
      const token = await this.#fetchWithDeadline(scope, reason === 'forced');
      publish('axios-m2m:token:request', () => ({
        ...event(),
        outcome: 'ok',
        lifetime: token.expiresAt - started,
      }));
      return token;
    } catch (error) {
      publish('axios-m2m:token:request', () => ({ ...event(), outcome: 'error', ...failureFields(error) }));
      throw error;
    }
  }

  #fetchWithDeadline(scope: string, forceRefresh: boolean): Promise<AccessToken> {
    const timedOut = () => {
      const where = this.#endpoint ? ` from ${forMessage(this.#endpoint)}` : '';
      return new TokenError('timeout', `token request for ${forMessage(scope)}${where} timed out after ${this.#timeout} ms`, {
        scope,
        ...(this.#endpoint !== undefined && { endpoint: this.#endpoint }),
      });
    };
    return withDeadline(this.#timeout, timedOut, (signal) => this.#fetch(scope, { forceRefresh, signal }));
  }
}
