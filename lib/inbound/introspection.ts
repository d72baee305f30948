import { isBearerToken } from '../core/bearer.js';
import { withDeadline } from '../core/deadline.js';
import { digestOf } from '../core/digest.js';
import { SingleFlight } from '../core/single-flight.js';
import { TokenError, failureFields } from '../errors.js';
import { channels, publish } from '../events.js';
import { parseEndpoint } from '../http/endpoint.js';
import { TokenClient, type HttpOptions } from '../http/token-client.js';
import { oneLine } from '../http/token-response.js';
import { count, duration, fail, identityProviderOption, optionalObject, optionalString } from '../options.js';
import type { IdentityProviderFor } from '../types.js';
import { ResultCache } from './result-cache.js';
import { shapeRefusal } from './token-shape.js';

/**
 * Identity providers whose tokens Texas's `/api/v1/introspect` checks: all of them.
 * @deprecated Use `IdentityProvider` (the same type).
 */
export type IntrospectionIdentityProvider = IdentityProviderFor<'introspect'>;

/**
 * The claims of an active token, as Texas copies them from the token. The common ones are typed;
 * read others by name (`claims.NAVident`, `claims.pid`). Frozen: every request with the same
 * token sees the same object.
 */
export interface TokenClaims {
  /** Any other claim, by name. */
  readonly [claim: string]: unknown;
  /** The subject: whose token it is. */
  readonly sub?: string;
  /** The issuer. */
  readonly iss?: string;
  /** The audience: the app or apps the token is for. */
  readonly aud?: string | readonly string[];
  /** When the token expires, in epoch seconds (as in the token). */
  readonly exp?: number;
  /** When the token was issued, in epoch seconds. */
  readonly iat?: number;
  /** The token is not valid before this, in epoch seconds. */
  readonly nbf?: number;
  /** Entra ID: the calling app's client id. */
  readonly azp?: string;
  /** Entra ID on NAIS: the calling app as `<cluster>:<namespace>:<app>`. */
  readonly azp_name?: string;
  /** TokenX, ID-porten, Maskinporten: the client the token was issued to. */
  readonly client_id?: string;
  /** Entra ID: the app roles granted (machine callers: `access_as_application`). */
  readonly roles?: readonly string[];
  /** Entra ID: the delegated scopes of a user's token, space-separated. */
  readonly scp?: string;
}

/** What Texas said of a token. */
export type IntrospectionResult =
  | {
      /** Texas found the token valid for this app. */
      readonly active: true;
      /** The token's claims, as Texas returned them. */
      readonly claims: TokenClaims;
    }
  | {
      /** The token was refused. */
      readonly active: false;
      /**
       * Why: Texas's reason (`invalid token: ExpiredSignature`), a generic one when Texas's would
       * show the token, or the local check's (`not a JWS: the header has no kid`) for a token
       * refused before Texas was asked.
       */
      readonly reason: string;
    };

/** Options of {@link introspection}. Every field is optional. */
export interface IntrospectionOptions extends HttpOptions {
  /** Texas's introspection endpoint. @default process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT */
  endpoint?: string | undefined;
  /** Whose tokens these are. @default 'entra_id' */
  identityProvider?: IdentityProviderFor<'introspect'> | undefined;
  /**
   * A kept answer is no longer served when less than this is left before the token expires, in
   * milliseconds: the same meaning as the token cache's `expiryMargin` (there capped at a tenth of
   * the token's lifetime, which introspection does not know). An active token's result is kept
   * until its `exp` less this, never beyond `exp`; later, Texas is asked again.
   * @default 5_000
   */
  expiryMargin?: number | undefined;
  /**
   * Longest an active result is served from memory, in milliseconds, however far ahead the
   * token's `exp` is: after it Texas is asked again, so a token Texas has started to refuse (a
   * revoked key, an `exp` decades ahead) is not accepted until its `exp`. Measured on the
   * monotonic clock: a step of the wall clock neither lengthens it nor cuts it short.
   * @default 3_600_000
   */
  maxAge?: number | undefined;
  /**
   * How long a token Texas called inactive is answered from memory, in milliseconds (at most
   * 60_000; 0: not at all). Short, so that a flood of one bad token does not reach Texas, and a
   * token refused by mistake (a key Texas had not fetched yet) is not refused for long.
   * @default 5_000
   */
  inactiveTtl?: number | undefined;
  /**
   * Most active results kept (one per token); the oldest written is evicted first. Refusals are
   * kept apart, at most 1,000 (fewer if this is smaller), so bad tokens never evict a good one.
   * @default 10_000
   */
  maxEntries?: number | undefined;
  /**
   * Deadline for one validation, retries included, in milliseconds: the request waits no longer
   * for Texas, and fails with a `TokenError` (code `timeout`).
   * @default 5_000
   */
  timeout?: number | undefined;
  /**
   * Most requests to Texas in flight at once; further validations wait for a free slot (the wait
   * counts toward `timeout`). Bounds the sockets and Texas's load under a flood of distinct tokens.
   * @default 32
   */
  concurrency?: number | undefined;
  /** How the request body is encoded; Texas takes both. @default 'json' */
  bodyFormat?: 'json' | 'form' | undefined;
}

/** A result as kept: until `until` (monotonic ms: maxAge for an active one, inactiveTtl for a refusal). */
interface Kept {
  readonly result: IntrospectionResult;
  readonly until: number;
}

/** An active result as kept: also served no later than `staleAt` (epoch ms: the token's exp less the margin). */
interface KeptActive extends Kept {
  readonly staleAt: number;
}

/** A validator of incoming tokens, from {@link introspection}. */
export interface TokenValidator {
  /** Whose tokens this validator asks Texas about. */
  readonly identityProvider: IdentityProviderFor<'introspect'>;
  /** Origin and path of the introspection endpoint. */
  readonly endpoint: string;
  /**
   * Asks Texas whether `token` (without `Bearer `) is active, from memory when it has already
   * answered: `{ active: true, claims }` or `{ active: false, reason }`. Rejects with a
   * `TokenError` only when Texas could not answer (network, timeout, 5xx, 400, a bad answer).
   * Concurrent calls for one token share one request.
   */
  validate(token: string): Promise<IntrospectionResult>;
  /** Results currently held. */
  readonly size: number;
  /** Drops every result held (a request in flight still completes and is stored). */
  clear(): void;
}

const DEFAULT_INTROSPECTION_EXPIRY_MARGIN = 5_000;
const DEFAULT_INACTIVE_TTL = 5_000;
const DEFAULT_INTROSPECTION_MAX_AGE = 3_600_000;
const DEFAULT_INTROSPECTION_CONCURRENCY = 32;
const MAX_INACTIVE_TTL = 60_000;
const DEFAULT_INTROSPECTION_MAX_ENTRIES = 10_000;
const DEFAULT_INTROSPECTION_TIMEOUT = 5_000;
/** Refusals kept at most: enough to absorb a retrying bad client, small enough that junk costs little memory. */
const MAX_REFUSALS_KEPT = 1_000;
// Texas answers introspection from its cached keys, without a network hop: an attempt that takes
// seconds will not get better by waiting, and the caller is a request someone is waiting for.
const DEFAULT_ATTEMPT_TIMEOUT = 2_000;
const DEFAULT_RETRIES = 2;

const MAX_REASON = 200;
const MALFORMED = 'malformed token';
const INACTIVE = 'token is not active';

/**
 * Validates incoming tokens with Texas, the NAIS platform's token sidecar
 * (`POST /api/v1/introspect`). Texas checks the signature, issuer, audience and lifetime for the
 * identity provider, and does not cache; this validator does:
 *
 * - a token without the shape of one Texas could accept (three base64url parts, a JSON header with
 *   `alg`, not `none`, and `kid`, a JSON payload with a numeric `exp` at most 60 s past: Texas's
 *   leeway) refused at once, with a reason naming the check, no request to Texas and nothing kept;
 * - an active result until the token's `exp` (less `expiryMargin`), at most `maxAge`, keyed by a SHA-256 digest of
 *   the token, never the token itself; an inactive one for `inactiveTtl`; a failure never;
 * - concurrent validations of one token share one request; at most `maxEntries` results;
 * - the same HTTP options as the token sources (timeouts, retries, proxy, size limit, plain http
 *   only on loopback).
 *
 * ```ts
 * const validator = introspection({ identityProvider: 'tokenx' });
 * const result = await validator.validate(token);
 * if (result.active) console.log(result.claims.sub);
 * ```
 */
export function introspection(options?: IntrospectionOptions): TokenValidator {
  return createIntrospection(options, 'introspection()');
}

/** {@link introspection}, with its messages naming the function the user called (`requireToken()`). */
export function createIntrospection(options: IntrospectionOptions | undefined, caller: string): TokenValidator {
  const o = optionalObject(`${caller} options`, options);
  const endpoint = parseEndpoint(
    optionalString('endpoint', o.endpoint) ?? process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT,
    `${caller}: the introspection endpoint (option endpoint or NAIS_TOKEN_INTROSPECTION_ENDPOINT)`,
    { allowInsecure: o.allowInsecure },
  );
  const identityProvider = identityProviderOption(o.identityProvider, 'introspect');
  const format = o.bodyFormat ?? 'json';
  if (format !== 'json' && format !== 'form') fail('bodyFormat', "'json' or 'form'", format);
  const expiryMargin = duration('expiryMargin', o.expiryMargin, DEFAULT_INTROSPECTION_EXPIRY_MARGIN);
  const inactiveTtl = duration('inactiveTtl', o.inactiveTtl, DEFAULT_INACTIVE_TTL);
  if (inactiveTtl > MAX_INACTIVE_TTL) fail('inactiveTtl', `a number of milliseconds <= ${MAX_INACTIVE_TTL}`, inactiveTtl);
  const timeout = duration('timeout', o.timeout, DEFAULT_INTROSPECTION_TIMEOUT, 1);
  const maxAge = duration('maxAge', o.maxAge, DEFAULT_INTROSPECTION_MAX_AGE, 1);
  const concurrency = count('concurrency', o.concurrency, DEFAULT_INTROSPECTION_CONCURRENCY, 1);
  let running = 0;
  const waiting: (() => void)[] = [];
  /** Resolves once a slot is free, or rejects when `signal` aborts first (the waiter leaves the queue). */
  function slot(signal: AbortSignal): Promise<void> {
    if (running < concurrency) {
      running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const take = () => {
        signal.removeEventListener('abort', leave);
        running += 1;
        resolve();
      };
      const leave = () => {
        const at = waiting.indexOf(take);
        if (at >= 0) waiting.splice(at, 1);
        reject(signal.reason);
      };
      waiting.push(take);
      signal.addEventListener('abort', leave, { once: true });
    });
  }
  function release(): void {
    running -= 1;
    waiting.shift()?.();
  }
  const maxEntries = count('maxEntries', o.maxEntries, DEFAULT_INTROSPECTION_MAX_ENTRIES, 1);
  // Both stores on the monotonic clock, so that a wall-clock step (NTP, a VM restore) neither keeps
  // a result past maxAge or inactiveTtl nor drops it early. An active result also ends at its
  // token's exp, which is epoch time and so read against Date.now(), as Texas reads it. Refusals
  // are in a store of their own, so that a flood of distinct bad tokens evicts other refusals,
  // never a caller's active result.
  const results = new ResultCache<KeptActive>(maxEntries);
  const refusals = new ResultCache<Kept>(Math.min(maxEntries, MAX_REFUSALS_KEPT));
  const client = new TokenClient(endpoint, {
    ...o,
    attemptTimeout: o.attemptTimeout ?? DEFAULT_ATTEMPT_TIMEOUT,
    retries: o.retries ?? DEFAULT_RETRIES,
  });
  const subject = `introspection of a token (${identityProvider})`;
  const inFlight = new SingleFlight<IntrospectionResult>();

  function event(fromCache: boolean, started: number, result: IntrospectionResult | undefined, error?: unknown): void {
    publish('axios-m2m:introspection:validate', () => ({
      identityProvider,
      endpoint: endpoint.label,
      fromCache,
      duration: fromCache ? 0 : Date.now() - started,
      outcome: result === undefined ? 'error' : result.active ? 'active' : 'inactive',
      ...(result === undefined && failureFields(error)),
    }));
  }

  /** One request to Texas, with its deadline; the answer checked and stored. */
  async function ask(key: string, token: string): Promise<IntrospectionResult> {
    const timedOut = () => new TokenError('timeout', `${subject} timed out after ${timeout} ms (${endpoint.label})`, { endpoint: endpoint.label });
    // The wait for a free slot counts toward the deadline; the deadline alone never keeps the process
    // alive (the request to Texas does while it runs).
    const body = await withDeadline(timeout, timedOut, async (signal) => {
      await slot(signal);
      try {
        return await client.send({
          subject,
          format,
          signal,
          secrets: [token], // scrubbed from anything Texas echoes back into an error
          body: { identity_provider: identityProvider, token },
        });
      } finally {
        release();
      }
    });
    const result = parseAnswer(body, token);
    if (result === undefined) {
      throw new TokenError('bad_response', `${subject} failed: 200 answer is not {"active": true|false, ...} (${endpoint.label})`, {
        status: 200,
        endpoint: endpoint.label,
      });
    }
    const monotonic = performance.now();
    if (result.active) {
      const exp = result.claims.exp;
      // Never beyond exp: a token without a numeric exp (Texas requires one) is not kept at all.
      if (typeof exp === 'number' && Number.isFinite(exp)) {
        const staleAt = exp * 1000 - expiryMargin;
        results.set(key, { result, until: monotonic + Math.min(maxAge, staleAt - Date.now()), staleAt }, monotonic);
      }
    } else {
      refusals.set(key, { result, until: monotonic + inactiveTtl }, monotonic);
    }
    return result;
  }

  async function validate(token: string): Promise<IntrospectionResult> {
    if (typeof token !== 'string') throw new TypeError(`axios-m2m: expected token to be a string, got ${token === null ? 'null' : typeof token}`);
    const started = Date.now();
    // Not a bearer token at all: no request, and nothing kept for it.
    if (!isBearerToken(token)) {
      const result: IntrospectionResult = { active: false, reason: MALFORMED };
      if (channels['axios-m2m:introspection:validate'].hasSubscribers) event(true, started, result);
      return result;
    }
    const key = digestOf(token);
    const monotonic = performance.now();
    const kept = results.get(key, monotonic);
    const hit = (kept !== undefined && started < kept.staleAt ? kept.result : undefined) ?? refusals.get(key, monotonic)?.result;
    if (hit !== undefined) {
      if (channels['axios-m2m:introspection:validate'].hasSubscribers) event(true, started, hit);
      return hit;
    }
    // Junk is refused here, never sent to Texas and never kept: storing it would only let a flood
    // of distinct junk evict the refusals of real tokens that are worth remembering.
    const why = shapeRefusal(token, started);
    if (why !== undefined) {
      const result: IntrospectionResult = Object.freeze({ active: false, reason: why });
      if (channels['axios-m2m:introspection:validate'].hasSubscribers) event(true, started, result);
      return result;
    }
    try {
      // Concurrent validations of one token share one request; each caller its own error object
      // (a shared one would grow with every caller's stack).
      const result = await inFlight.join(key, () => ask(key, token), subject);
      event(false, started, result);
      return result;
    } catch (error) {
      event(false, started, undefined, error);
      throw error;
    }
  }

  return {
    identityProvider,
    endpoint: endpoint.label,
    validate,
    get size() {
      return results.size + refusals.size;
    },
    clear() {
      results.clear();
      refusals.clear();
    },
  };
}

/** Texas's 200 answer: `{"active": true, ...claims}` or `{"active": false, "error": "..."}`; undefined if neither. */
function parseAnswer(body: string, token: string): IntrospectionResult | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const { active, ...rest } = json as Record<string, unknown>;
  if (active === true) return Object.freeze({ active: true, claims: deepFreeze(rest) });
  if (active !== false) return undefined;
  const error = rest.error;
  // Texas's reason, unless it shows the token (or a part long enough to matter): then a generic one.
  const reason = typeof error === 'string' && error.trim() !== '' && !echoes(error, token) ? oneLine(error, MAX_REASON) : INACTIVE;
  return Object.freeze({ active: false, reason });
}

/** Whether `text` carries the token or one of its parts (a JWT's header, payload or signature). */
function echoes(text: string, token: string): boolean {
  return text.includes(token) || token.split('.').some((part) => part.length >= 16 && text.includes(part));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
