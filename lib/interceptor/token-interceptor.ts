import axios, { AxiosHeaders, CanceledError, type AxiosError, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { processWide } from '../context/process-wide.js';
import { publish } from '../events.js';
import { optionalObject } from '../options.js';
import { checkClientOptions } from '../request-policy/client-options.js';
import { parseOrigins } from '../request-policy/origins.js';
import { isReplayable, replacementToken } from '../request-policy/retry.js';
import { checkTokenOption, scopeFor } from '../request-policy/token-option.js';
import type { AccessToken, TokenSource } from '../types.js';
import './augment.js';
import { RecentTokens } from './old-axios.js';
import { bearerOf, REDACTED_PREFIX, redactError } from './redact-error.js';
import { guardRedirects } from './redirect-guard.js';
import { describeRequest, requestTargets } from './request-target.js';

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
  scope?: ScopeOption | undefined;
  /**
   * Statuses that mean "this token is refused": the request is retried once with a fresh token.
   * Replaces the default (list 401 too if you want it).
   * @default [401]
   */
  retryOn?: readonly number[] | undefined;
  /**
   * Origins that may receive the token besides the `baseURL`'s (e.g. `['https://other-api.example']`),
   * for absolute URLs: a token goes only to an origin the user named, the `baseURL`'s or one of these.
   * An instance without a `baseURL` needs them: `attachToken` refuses it otherwise.
   * @default []
   */
  origins?: readonly string[] | undefined;
}

/**
 * The two handlers, for `instance.interceptors.request.use` and `.response.use(undefined, …)`.
 * Neither uses `this`: pass them detached (`use(interceptor.request)`).
 */
export interface TokenInterceptor {
  /** Sets `Authorization: Bearer …` on a request config. */
  request(this: void, config: InternalAxiosRequestConfig): Promise<InternalAxiosRequestConfig>;
  /** Retries a request whose token was refused, once; rethrows everything else unchanged. */
  responseError(this: void, error: unknown): Promise<AxiosResponse>;
}

/**
 * What we attached to a request: enough to retry it with another token. Kept on the request's own
 * config under a module-private symbol (a WeakMap entry per request cost a third of the handler's
 * time); the token, the body and the source sit in private fields, so it adds no copy of them to
 * what `util.inspect(err.config)` prints.
 *
 * axios's config merge copies enumerable symbol keys, so a config re-sent through an instance
 * (axios-retry, a user's own interceptor) arrives with the record of an earlier pass: the request
 * handler replaces or clears it on every pass, and whether a request was already retried is read
 * from the `Retry` marker in `token`, never from a record.
 */
class Sent {
  readonly #token: string;
  readonly #data: unknown;
  readonly #source: TokenSource;
  readonly #user: string | undefined;
  constructor(
    readonly scope: string,
    /** When the token expires (epoch ms): kept in place of the token where an error shows the request. */
    readonly expiresAt: number,
    token: string,
    /** The body before axios serialised it, so that a retry serialises it once, not twice. */
    data: unknown,
    /** The source of the interceptor that attached it: the one to ask for a replacement. */
    source: TokenSource,
    /** The request's own `token: { user }`: the replacement is for that user too. */
    user: string | undefined,
  ) {
    this.#token = token;
    this.#data = data;
    this.#source = source;
    this.#user = user;
  }
  get user(): string | undefined {
    return this.#user;
  }
  get token(): string {
    return this.#token;
  }
  get data(): unknown {
    return this.#data;
  }
  get source(): TokenSource {
    return this.#source;
  }
}
const SENT = Symbol('axios-m2m.sent');
type Tracked = InternalAxiosRequestConfig & { [SENT]?: Sent };

/**
 * The `token` of a retry's config. Not a plain object, so axios's config merge passes it through
 * by reference to every config derived from the retry's (axios-retry's re-send, a user's own), and
 * known only to the package: user input cannot forge "already retried" (only a marker in the set
 * counts, and only the package adds to it). Every registration of the interceptor on an instance
 * sees it, so a request is retried at most once however many there are; the set is one per
 * process, so that holds across the ESM and CommonJS copies too (a marker made by one copy is a
 * different class to the other, hence the set alone decides).
 */
class Retry {
  /** The refused request's `token: { user }`, private as the record's: a config re-sent from the retry's keeps its user. */
  readonly #user: string | undefined;
  constructor(
    readonly scope: string,
    user: string | undefined,
  ) {
    this.#user = user;
  }
  get user(): string | undefined {
    return this.#user;
  }
}
const retries = processWide('retry-markers', 1, () => new WeakSet<object>());

function isRetry(option: unknown): option is Retry {
  return typeof option === 'object' && option !== null && retries.has(option);
}

/**
 * Drops what an earlier pass left on a config that is now sent without a token (re-sent through
 * the instance with `token: false`, or to another origin): the record, so that a 401 is not retried
 * with a token, and the header we set then, which the config's copied headers still carry.
 */
function forget(config: Tracked, attached: RecentTokens): void {
  delete config[SENT];
  const value = config.headers.get('Authorization');
  if (typeof value === 'string' && (value.startsWith(REDACTED_PREFIX) || (value.startsWith('Bearer ') && attached.has(value.slice(7))))) {
    config.headers.delete('Authorization');
  }
}

// The retry re-sends the request exactly as the interceptors left it: its config already holds the
// instance's settings (baseURL, adapter, agents, transforms), so an interceptor-free instance sends
// it through the same adapter, and no interceptor of the user's runs twice (axios-retry#246).
const resend: AxiosInstance = axios.create();

function signalOf(config: InternalAxiosRequestConfig): AbortSignal | undefined {
  return config.signal instanceof AbortSignal ? config.signal : undefined;
}

/** A caller's abort rejects as axios's own aborts do (`axios.isCancel(err)`), not as an AbortError. */
function asCancel(error: unknown, config: InternalAxiosRequestConfig): unknown {
  return signalOf(config)?.aborted && error === signalOf(config)?.reason ? new CanceledError(undefined, undefined, config) : error;
}

const NO_SCOPE_REMEDY = 'give attachToken a scope, or the instance or request token: { scope }';

/**
 * The factory behind {@link attachToken}: the request handler that attaches tokens and the
 * response handler that retries a refused one, for users who register interceptors themselves.
 *
 * Where tokens go: a request gets the token only when its origin, resolved as axios resolves its URL
 * (absolute and protocol-relative URLs, a per-request `baseURL`, `allowAbsoluteUrls`), is the
 * `baseURL`'s or one in `origins`.
 * - An absolute URL of another origin on an instance with a `baseURL` is sent as it is, without the
 *   token and without a word: the `baseURL` says where the token goes, and a URL built from input
 *   must not carry it anywhere else.
 * - Any other request whose origin was not named (no `baseURL` and not in `origins`, a URL that
 *   does not parse) fails with a `TokenError` (code `configuration`) naming it, and nothing is sent:
 *   neither a token to a host nobody named nor a request that was meant to carry one.
 *
 * The token replaces any `Authorization` the request has (an instance default, a per-request
 * header, axios's `auth`), as Go's x/oauth2 Transport does; `token: false` sends a request with
 * its own.
 *
 * Registered by hand, the handler sees the config axios merged, and axios's merge lets a request's
 * `token: { scope: undefined }` replace the instance's `token: { scope }`: such a request gets the
 * `scope` option's scope. {@link attachToken}, which knows the instance, gives it the instance's.
 */
export function tokenInterceptor(options: TokenInterceptorOptions): TokenInterceptor {
  const o = optionalObject('tokenInterceptor() options', options);
  const { source } = o;
  const retryOn = checkClientOptions(o);
  const allowedOrigins = parseOrigins(o.origins);
  const targetOf = requestTargets();
  const attached = new RecentTokens();

  function scopeOf(config: InternalAxiosRequestConfig, option: { scope?: string | undefined } | null | undefined): string {
    // describeRequest itself, not a closure over config: nothing is allocated unless there is no scope.
    return scopeFor(option, o.scope, config, describeRequest, NO_SCOPE_REMEDY);
  }

  // A TypeError, as attachToken's refusal of an instance without a baseURL: the calling code never
  // named where this request's token may go.
  function unnamedOrigin(config: InternalAxiosRequestConfig, origin: string | undefined): TypeError {
    const where =
      origin === undefined
        ? 'a URL whose origin cannot be told (a relative URL without a baseURL, or one that does not parse)'
        : `${origin}, which is neither the baseURL's origin nor in origins`;
    return new TypeError(
      `axios-m2m: no token for ${describeRequest(config)}: it goes to ${where}; ` +
        'use axios.create({ baseURL }), list the origin in origins, or send this request with token: false',
    );
  }

  /**
   * Replaces the token this interceptor attached wherever the error shows the request, before the
   * error goes on (see redact-error.ts): every later handler, and the caller's logger, see a note
   * of it. An `Authorization` of the user's own (`token: false`) is not one of ours and stays.
   */
  function redactOwn(error: AxiosError): void {
    const token = bearerOf(error.config);
    const note = token === undefined ? undefined : attached.noteOf(token);
    if (note !== undefined) redactError(error, token!, note);
  }

  return {
    async request(config) {
      const option = config.token;
      const tracked = config as Tracked;
      if (option === false) {
        forget(tracked, attached);
        return config;
      }
      if (option != null && !isRetry(option)) checkTokenOption(option);
      const { base, origin } = targetOf(config);
      if (origin === undefined || (origin !== base && !allowedOrigins.has(origin))) {
        if (base === undefined || origin === undefined) throw unnamedOrigin(config, origin);
        forget(tracked, attached);
        return config; // an absolute URL of another origin than the baseURL's: sent without the token
      }
      const scope = scopeOf(config, option);
      const user = option?.user;
      let token: AccessToken;
      try {
        const signal = signalOf(config);
        token = await source.getToken(scope, user === undefined ? { signal } : { signal, user });
      } catch (error) {
        throw asCancel(error, config);
      }
      // Ours wins over any Authorization the request has, `false` included; and axios's `auth`
      // (Basic) would make the http adapter drop ours, so it goes too.
      config.headers.set('Authorization', `Bearer ${token.token}`, true);
      attached.add(token, scope);
      if (config.auth !== undefined) delete config.auth;
      guardRedirects(config, origin);
      tracked[SENT] = new Sent(scope, token.expiresAt, token.token, config.data, source, user);
      return config;
    },

    async responseError(error) {
      if (!axios.isAxiosError(error) || !error.config) throw error;
      redactOwn(error);
      if (!error.response) throw error;
      const config = error.config;
      const sent = (config as Tracked)[SENT];
      // A retry's config (and every config derived from it) carries the marker: never a second retry.
      if (sent === undefined || isRetry(config.token) || !retryOn.includes(error.response.status)) throw error;
      if (signalOf(config)?.aborted || !isReplayable(sent.data)) throw error;
      let fresh: AccessToken;
      const refused = Date.now();
      try {
        const { token, refreshed } = await replacementToken(sent.source, sent.scope, sent.token, signalOf(config), sent.user);
        fresh = token;
        const [method, path] = describeRequest(config).split(' ') as [string, string];
        const duration = Date.now() - refused;
        publish('axios-m2m:request:retry', () => ({ scope: sent.scope, status: error.response!.status, method, path, refreshed, duration }));
      } catch (refreshError) {
        throw asCancel(refreshError, config); // the real cause, not the 401
      }
      const marker = new Retry(sent.scope, sent.user);
      retries.add(marker);
      const headers = new AxiosHeaders(config.headers);
      headers.set('Authorization', `Bearer ${fresh.token}`, true);
      // The same URL, baseURL and redirect guard as the refused request: the same origin, named.
      // The spread copies the record too; the marker makes every handler that sees it again let go.
      attached.add(fresh, sent.scope);
      try {
        return await resend.request({ ...config, headers, data: sent.data, token: marker });
      } catch (retryError) {
        // The retry's error goes to the handlers after this one, and to the caller, from here.
        if (axios.isAxiosError(retryError)) redactOwn(retryError);
        throw retryError;
      }
    },
  };
}
