import axios, {
  AxiosHeaders,
  CanceledError,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { TokenError } from '../errors.js';
import { publish } from '../events.js';
import { fail, optionalObject } from '../options.js';
import type { AccessToken, TokenSource } from '../types.js';
import './augment.js';
import { guardRedirects } from './redirect-guard.js';
import { describeRequest, mayCarryToken, parseOrigins, requestOrigin } from './request-target.js';

/** The scope of a request: a string, or a function of the request config (to map URLs to scopes). */
export type ScopeOption = string | ((config: InternalAxiosRequestConfig) => string | undefined);

/** Options of {@link tokenInterceptor} and {@link attachToken}. */
export interface TokenInterceptorOptions {
  /** Where tokens come from: `texas()`, `clientCredentials()`, `fromEnv()`, or your own. */
  source: TokenSource;
  /**
   * The scope when neither the request nor the instance config has `token: { scope }`.
   * A function is called per request and may return `undefined` to leave the choice to an error.
   */
  scope?: ScopeOption;
  /**
   * Statuses that mean "this token is refused": the request is retried once with a fresh token.
   * @default [401]
   */
  retryOn?: readonly number[];
  /**
   * Origins besides the `baseURL`'s that may receive the token on absolute URLs
   * (e.g. `['https://other-api.example']`).
   * @default []
   */
  origins?: readonly string[];
}

/** The two handlers, for `instance.interceptors.request.use` and `.response.use(undefined, …)`. */
export interface TokenInterceptor {
  /** Sets `Authorization: Bearer …` on a request config. */
  request(config: InternalAxiosRequestConfig): Promise<InternalAxiosRequestConfig>;
  /** Retries a request whose token was refused, once; rethrows everything else unchanged. */
  responseError(error: unknown): Promise<AxiosResponse>;
}

/**
 * What we attached to a request: enough to retry it with another token. Kept on the request's own
 * config under a module-private symbol (a WeakMap entry per request cost a third of the handler's
 * time); the token and the body sit in private fields, so it adds no copy of them to what
 * `util.inspect(err.config)` prints.
 */
class Sent {
  readonly #token: string;
  readonly #data: unknown;
  constructor(
    readonly scope: string,
    token: string,
    /** The body before axios serialised it, so that a retry serialises it once, not twice. */
    data: unknown,
    readonly retried: boolean,
  ) {
    this.#token = token;
    this.#data = data;
  }
  get token(): string {
    return this.#token;
  }
  get data(): unknown {
    return this.#data;
  }
}
const SENT = Symbol('axios-m2m.sent');
type Tracked = InternalAxiosRequestConfig & { [SENT]?: Sent };

/**
 * The `token` of a retry's config. Not a plain object, so axios's config merge passes it through
 * by reference, and known only to this module: user input cannot forge "already retried".
 */
class Retry {
  constructor(readonly scope: string) {}
}
const retries = new WeakSet<Retry>();

// The retry re-sends the request exactly as the interceptors left it: its config already holds the
// instance's settings (baseURL, adapter, agents, transforms), so an interceptor-free instance sends
// it through the same adapter, and no interceptor of the user's runs twice (axios-retry#246).
const resend: AxiosInstance = axios.create();

function isReplayable(data: unknown): boolean {
  if (data === null || typeof data !== 'object') return true;
  const body = data as Record<string | symbol, unknown>;
  // Streams are consumed by the first attempt; replaying one would send an empty or partial body.
  return !(typeof body.pipe === 'function' || typeof body.getReader === 'function' || Symbol.asyncIterator in body);
}

function signalOf(config: InternalAxiosRequestConfig): AbortSignal | undefined {
  return config.signal instanceof AbortSignal ? config.signal : undefined;
}

/** A caller's abort rejects as axios's own aborts do (`axios.isCancel(err)`), not as an AbortError. */
function asCancel(error: unknown, config: InternalAxiosRequestConfig): unknown {
  return signalOf(config)?.aborted && error === signalOf(config)?.reason ? new CanceledError(undefined, undefined, config) : error;
}

/**
 * The factory behind {@link attachToken}: the request handler that attaches tokens and the
 * response handler that retries a refused one, for users who register interceptors themselves.
 */
export function tokenInterceptor(options: TokenInterceptorOptions): TokenInterceptor {
  const o = optionalObject('tokenInterceptor() options', options);
  const { source } = o;
  if (typeof source?.getToken !== 'function') fail('source', 'a TokenSource (an object with getToken)', source);
  if (o.scope !== undefined && typeof o.scope !== 'string' && typeof o.scope !== 'function') {
    fail('scope', 'a string or a function', o.scope);
  }
  const retryOn = o.retryOn ?? [401];
  if (!Array.isArray(retryOn) || !retryOn.every((s) => Number.isInteger(s))) fail('retryOn', 'an array of HTTP statuses', retryOn);
  const allowedOrigins = parseOrigins(o.origins);

  function scopeOf(config: InternalAxiosRequestConfig): string {
    const scope = (config.token || undefined)?.scope ?? (typeof o.scope === 'function' ? o.scope(config) : o.scope);
    if (scope === undefined) {
      throw new TokenError(
        'configuration',
        `no scope for ${describeRequest(config)}: give attachToken a scope, or the instance or request token: { scope }`,
      );
    }
    return scope;
  }

  /** A token other than the refused one: the current one if it was already replaced, else a forced refresh. */
  async function replacement(sent: Sent, signal: AbortSignal | undefined): Promise<{ token: AccessToken; refreshed: boolean }> {
    const current = await source.getToken(sent.scope, { signal });
    if (current.token !== sent.token) return { token: current, refreshed: false };
    return { token: await source.getToken(sent.scope, { forceRefresh: true, signal }), refreshed: true };
  }

  return {
    async request(config) {
      const option = config.token;
      if (option === false || !mayCarryToken(config, allowedOrigins)) return config;
      const scope = scopeOf(config);
      let token: AccessToken;
      try {
        token = await source.getToken(scope, { signal: signalOf(config) });
      } catch (error) {
        throw asCancel(error, config);
      }
      config.headers.set('Authorization', `Bearer ${token.token}`);
      guardRedirects(config, requestOrigin(config));
      const retried = option instanceof Retry && retries.has(option);
      (config as Tracked)[SENT] = new Sent(scope, token.token, config.data, retried);
      return config;
    },

    async responseError(error) {
      if (!axios.isAxiosError(error) || !error.config || !error.response) throw error;
      const config = error.config;
      const sent = (config as Tracked)[SENT];
      if (sent === undefined || sent.retried || !retryOn.includes(error.response.status)) throw error;
      if (signalOf(config)?.aborted || !isReplayable(sent.data)) throw error;
      let fresh: AccessToken;
      const refused = Date.now();
      try {
        const { token, refreshed } = await replacement(sent, signalOf(config));
        fresh = token;
        const [method, path] = describeRequest(config).split(' ') as [string, string];
        const durationMs = Date.now() - refused;
        publish('axios-m2m:retry', () => ({ scope: sent.scope, status: error.response!.status, method, path, refreshed, durationMs }));
      } catch (refreshError) {
        throw asCancel(refreshError, config); // the real cause, not the 401
      }
      const marker = new Retry(sent.scope);
      retries.add(marker);
      const headers = new AxiosHeaders(config.headers);
      headers.set('Authorization', `Bearer ${fresh.token}`);
      return resend.request({ ...config, headers, data: sent.data, token: marker });
    },
  };
}
