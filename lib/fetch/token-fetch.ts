import { publish } from '../events.js';
import { fail, optionalObject } from '../options.js';
import { checkClientOptions } from '../request-policy/client-options.js';
import { originOf, parseOrigins } from '../request-policy/origins.js';
import { isReplayable, replacementToken } from '../request-policy/retry.js';
import { checkTokenOption, scopeFor } from '../request-policy/token-option.js';
import type { TokenSource } from '../types.js';
import './augment.js';

/** A `fetch` function: the global one, undici's, or any with the same signature. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The scope of a request: a string, or a function of the request's URL (to map URLs to scopes). */
export type FetchScopeOption = string | ((url: URL) => string | undefined);

/** Options of {@link tokenFetch}. */
export interface TokenFetchOptions {
  /** Where tokens come from: `texas()`, `clientCredentials()`, `fromEnv()`, or your own. */
  source: TokenSource;
  /**
   * The scope when the request's `init` has no `token: { scope }`. A function is called per request
   * with its URL and may return `undefined` to leave the choice to an error.
   */
  scope?: FetchScopeOption | undefined;
  /**
   * The origins that receive the token (e.g. `['https://other-api.example']`). Required: a fetch
   * function has no `baseURL` to say where the token belongs, and a request to any other origin
   * goes out as it is, without the token.
   */
  origins: readonly string[];
  /**
   * The `fetch` to send requests with.
   * @default globalThis.fetch, looked up per request (so a test's stub of it is used)
   */
  fetch?: FetchFunction | undefined;
  /**
   * Statuses that mean "this token is refused": the request is sent once more with a fresh token,
   * when its body can be sent again. Replaces the default (list 401 too if you want it).
   * @default [401]
   */
  retryOn?: readonly number[] | undefined;
}

const MAX_DESCRIBED = 120;

/** "GET /path", for messages and events: no query string, fragment or credentials. */
function describe(method: string, url: URL): { method: string; path: string } {
  const path = url.pathname.length > MAX_DESCRIBED ? `${url.pathname.slice(0, MAX_DESCRIBED)}…` : url.pathname;
  return { method: method.toUpperCase(), path };
}

/** The request's URL when it is absolute; a relative one has no origin to compare. */
function urlOf(input: string | URL | Request): URL | undefined {
  try {
    return new URL(input instanceof Request ? input.url : input);
  } catch {
    return undefined;
  }
}

/** `init` as the underlying fetch gets it: our option removed, the headers given. */
function forward(init: RequestInit | undefined, headers?: Headers): RequestInit | undefined {
  if (init === undefined && headers === undefined) return undefined;
  const { token: _ours, ...rest } = init ?? {};
  return headers === undefined ? rest : { ...rest, headers };
}

/**
 * `fetch` with a bearer token, by the rules `attachToken()` follows for axios, from the same
 * code: the scope is the request's `init.token.scope`, else `scope`; the token goes only to an
 * origin in `origins`, and the runtime's fetch drops it on a redirect to another origin (the fetch
 * standard strips `Authorization` across origins; Node's fetch does, and the suite proves it on
 * every Node version CI runs: a `fetch` of your own must do the same); a response whose status is
 * in `retryOn` (401) is answered by one more request with another token when the body can be sent
 * again (not a stream, not a `Request` with a body), never twice; the caller's `signal` ends only
 * that caller's wait for a token.
 *
 * ```ts
 * const fetchApi = tokenFetch({ source: texas(), scope: 'api://dev-gcp.team.other-api/.default', origins: ['https://other-api.intern.nav.no'] });
 * const response = await fetchApi('https://other-api.intern.nav.no/things');
 * ```
 */
export function tokenFetch(options: TokenFetchOptions): FetchFunction {
  const o = optionalObject('tokenFetch() options', options);
  const { source } = o;
  const retryOn = checkClientOptions(o);
  if (o.fetch !== undefined && typeof o.fetch !== 'function') fail('fetch', 'a fetch function', o.fetch);
  const allowed = parseOrigins(o.origins);
  if (allowed.size === 0) {
    throw new TypeError("axios-m2m: tokenFetch needs to know where the token may go: pass origins: ['https://api.example'] (a fetch has no baseURL)");
  }
  const send: FetchFunction = o.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return async function fetchWithToken(input, init) {
    const option = init?.token;
    if (option === false) return send(input, forward(init));
    if (option != null) checkTokenOption(option);
    const url = urlOf(input);
    const origin = url && originOf(url);
    // Another origin, or one that cannot be told: sent as it is, without the token.
    if (url === undefined || origin === undefined || !allowed.has(origin)) return send(input, forward(init));
    const request = input instanceof Request ? input : undefined;
    const method = init?.method ?? request?.method ?? 'GET';
    const scope = scopeFor(option, o.scope, url, () => Object.values(describe(method, url)).join(' '), 'give tokenFetch a scope, or the request init token: { scope }');
    const signal = init?.signal ?? request?.signal ?? undefined;
    const user = option?.user;
    const token = await source.getToken(scope, user === undefined ? { signal } : { signal, user });
    // As `new Request(input, init)` does: init's headers, when given, replace the request's.
    const headers = new Headers(init?.headers !== undefined ? init.headers : request?.headers);
    headers.set('Authorization', `Bearer ${token.token}`);
    const response = await send(input, forward(init, headers));

    if (!retryOn.includes(response.status) || signal?.aborted) return response;
    const body = init?.body !== undefined ? init.body : (request?.body ?? null);
    if (!isReplayable(body)) return response;
    // The refused answer is not the caller's any more (it gets the retry's, or the refresh's error):
    // free its connection first.
    await response.body?.cancel().catch(() => undefined);
    const refused = performance.now();
    const { token: fresh, refreshed } = await replacementToken(source, scope, token.token, signal, user);
    const { path } = describe(method, url);
    const status = response.status;
    publish('axios-m2m:request:retry', () => ({ scope, status, method: method.toUpperCase(), path, refreshed, duration: performance.now() - refused }));
    headers.set('Authorization', `Bearer ${fresh.token}`);
    return send(input, forward(init, headers));
  };
}
