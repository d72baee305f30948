import axios, { AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import axiosRetryExport, { exponentialDelay, retryAfter } from 'axios-retry';
import http, { type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import { pause } from '../core/deadline.js';
import { isTokenError, type TokenError, type TokenErrorCode } from '../errors.js';
import { count, duration } from '../options.js';
import type { AccessToken } from '../types.js';
import type { Endpoint } from './endpoint.js';
import { needsTunnel, planRoute, routeTo, tunnelAgent, type ProxyOptions, type RoutePlan } from './proxy.js';
import { failure, toTokenError, type Boundary } from './error-boundary.js';
import { BadAnswer, parseTokenAnswer } from './token-response.js';

// axios-retry's CommonJS file sets `exports.default`. Our CommonJS build imports it the way Node
// imports CommonJS from ESM (esbuild's interop for a "type": "module" package), so there the default
// import is the whole exports object; the ESM build gets the function itself.
const axiosRetry: typeof axiosRetryExport =
  typeof axiosRetryExport === 'function' ? axiosRetryExport : (axiosRetryExport as unknown as { default: typeof axiosRetryExport }).default;

/** How the package talks to a token endpoint. Every field is optional. */
export interface HttpOptions extends ProxyOptions {
  /**
   * Timeout of one attempt, in milliseconds, from sending the request to the last byte of the
   * answer (a slow, trickling answer is cut too); a timed-out attempt is retried. The whole
   * acquisition has the cache's `timeout`.
   * @default 10_000
   */
  attemptTimeout?: number | undefined;
  /**
   * Retries after a network error, a timeout, 408, 429 or a 5xx, with exponential backoff and
   * jitter. Other answers are final: a wrong secret does not get better.
   * @default 3
   */
  retries?: number | undefined;
  /**
   * Longest `Retry-After` honoured, in milliseconds; a longer one fails at once with code
   * `throttled` and the wait asked for in `retryAfter`.
   * @default 30_000
   */
  maxRetryAfter?: number | undefined;
  /**
   * Largest answer read, in bytes; a larger one is a `bad_response`.
   * @default 65_536
   */
  maxResponseSize?: number | undefined;
  /** Allow a plain-http token endpoint on a host that is not loopback. @default false */
  allowInsecure?: boolean | undefined;
}

const DEFAULT_ATTEMPT_TIMEOUT = 10_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_MAX_RETRY_AFTER = 30_000;
const DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024;
const RETRY_DELAY_FACTOR = 200;

interface RequestFields {
  body: Record<string, string | boolean | object | undefined>;
  format: 'json' | 'form';
  /** Values (secrets, assertions, user tokens) scrubbed from anything the endpoint echoes back. */
  secrets?: readonly string[];
  signal?: AbortSignal | undefined;
  /**
   * Made afresh before every attempt, retries included, its fields added to `body`: what may be
   * used once only (a client assertion, whose jti the endpoint may refuse to see twice). What it
   * returns in `secrets` is scrubbed from errors as `secrets` is. Called with the caller's signal.
   */
  perAttempt?: (signal: AbortSignal | undefined) => Promise<AttemptFields>;
}

/** What {@link RequestFields.perAttempt} adds to one attempt's body. */
export interface AttemptFields {
  fields: Record<string, string>;
  /** Values among `fields` that must never show in an error. */
  secrets: readonly string[];
}

/**
 * One request to the endpoint: its body, how to encode it, and what must never show in an error.
 * Errors start with `subject` (`introspection of a token`), by default `token request for <scope>`;
 * `scope`, when given, is also kept on the error.
 */
export type TokenRequest = RequestFields & ({ scope: string; subject?: string } | { scope?: string; subject: string });

/** Per request, carried on the axios config (axios-retry sends the same config again). */
interface Carried {
  /** The caller's signal (the cache's deadline): an abort through it is final. */
  callerSignal?: AbortSignal | undefined;
  /** The current attempt's timeout: an abort through it is retried. */
  attemptSignal?: AbortSignal;
  /** When the current attempt was sent: a token's lifetime counts from the attempt that got it. */
  attemptStartedAt?: number;
  /** Encodes the body for the next attempt, with what `perAttempt` makes for it. */
  nextBody?: () => Promise<string>;
}
type CarriedConfig = InternalAxiosRequestConfig & Carried;

/**
 * http(s).request, with each request's socket unreferenced (a reused keep-alive socket too, which
 * Node references again): a token request alone never keeps the process alive. A caller waiting
 * for a token is held by the cache instead (through core/keep-alive.ts), a background refresh is not.
 */
const unreferencedTransport = {
  request(options: RequestOptions, callback: (response: IncomingMessage) => void): ClientRequest {
    const request = (options.protocol === 'https:' ? https : http).request(options, callback);
    request.on('socket', (socket) => socket.unref());
    return request;
  },
};

/** AbortSignal.timeout takes a whole number of milliseconds up to 2^32 - 1. */
const MAX_TIMER = 2 ** 32 - 1;

/** Posts token requests to one endpoint through a private axios instance, never the user's. */
export class TokenClient {
  readonly endpoint: Endpoint;
  readonly #attemptTimeout: number;
  readonly #retries: number;
  readonly #maxRetryAfter: number;
  readonly #maxResponseSize: number;
  readonly #route: RoutePlan;
  readonly #http: AxiosInstance;
  /**
   * Not before this time: the endpoint's last `Retry-After`, on the monotonic clock
   * (`performance.now()`), so that a step of the wall clock (NTP, a VM restore) neither blocks
   * fetches for the length of the step nor ends the wait early.
   */
  #notBefore = 0;
  /** Set on the first request through a proxy to an https endpoint: the tunnelling agent, loaded. */
  #tunnel: Promise<void> | undefined;

  constructor(endpoint: Endpoint, options: HttpOptions = {}) {
    this.endpoint = endpoint;
    this.#attemptTimeout = duration('attemptTimeout', options.attemptTimeout, DEFAULT_ATTEMPT_TIMEOUT, 1);
    this.#retries = count('retries', options.retries, DEFAULT_RETRIES);
    this.#maxRetryAfter = duration('maxRetryAfter', options.maxRetryAfter, DEFAULT_MAX_RETRY_AFTER);
    this.#maxResponseSize = count('maxResponseSize', options.maxResponseSize, DEFAULT_MAX_RESPONSE_SIZE, 1);
    this.#route = planRoute(endpoint, options); // a wrong proxy URL fails here, at creation
    this.#http = axios.create({
      // No axios `timeout`: axios arms a timer that holds the process and does not cover the body.
      // Each attempt gets an AbortSignal.timeout instead (below), which does neither.
      timeout: 0,
      maxRedirects: 0, // a redirect would re-send the secret to wherever it points
      maxContentLength: this.#maxResponseSize,
      responseType: 'text',
      transformResponse: [(data: unknown) => data], // parsed and checked here, not by axios
      headers: { Accept: 'application/json' },
      transport: unreferencedTransport,
      ...routeTo(this.#route),
    });
    // Runs for every attempt, retries included: a fresh timeout for this attempt alone.
    this.#http.interceptors.request.use((config: CarriedConfig) => {
      const attempt = AbortSignal.timeout(Math.min(Math.ceil(this.#attemptTimeout), MAX_TIMER));
      config.attemptSignal = attempt;
      config.attemptStartedAt = Date.now();
      config.signal = config.callerSignal ? AbortSignal.any([config.callerSignal, attempt]) : attempt;
      return config;
    });
    // The body of each attempt, retries included, made afresh (a new client assertion). axios runs
    // request interceptors last-registered first, so this runs before the one above: the assertion
    // is made before the attempt's timeout starts. A failure here (the clientAssertion callback's)
    // reaches axios-retry without a config, so it is never retried.
    this.#http.interceptors.request.use(async (config: CarriedConfig) => {
      if (config.nextBody) config.data = await config.nextBody();
      return config;
    });
    // Every error answer, retried or final: the next request waits as long as it asks, up to
    // maxRetryAfter (a longer wait is not honoured at all: that answer fails with throttled).
    this.#http.interceptors.response.use(undefined, (error: unknown) => {
      const asked = error instanceof AxiosError ? retryAfter(error) : 0;
      if (asked > 0 && asked <= this.#maxRetryAfter) this.#notBefore = Math.max(this.#notBefore, performance.now() + asked);
      return Promise.reject(error);
    });
    axiosRetry(this.#http, {
      retries: this.#retries,
      retryCondition: (error) => this.#isRetryable(error),
      // The backoff waits in onRetry, on a timer that does not hold the process (axios-retry's does).
      retryDelay: () => 0,
      onRetry: (retryNumber, error, config) => pause(exponentialDelay(retryNumber, error, RETRY_DELAY_FACTOR), (config as CarriedConfig).callerSignal),
    });
  }

  /** Loads the tunnelling agent on the first request that needs one (most apps use no proxy). */
  #ready(): Promise<void> | undefined {
    if (!needsTunnel(this.#route)) return undefined;
    this.#tunnel ??= tunnelAgent(this.#route, this.#attemptTimeout).then((agent) => {
      this.#http.defaults.httpsAgent = agent;
    });
    return this.#tunnel;
  }

  /** Posts a token request and parses the token in its answer. */
  async post(request: TokenRequest): Promise<AccessToken> {
    const { body, sentAt } = await this.#exchange(request);
    try {
      // From the attempt that got the answer: earlier attempts and the waits between them are no
      // part of the token's life, and counting them would have the token expire in the cache
      // before the server's clock says so, by up to the whole backoff.
      return parseTokenAnswer(body, sentAt);
    } catch (error) {
      if (error instanceof BadAnswer) throw this.#error(request, 'bad_response', `200 answer unusable: ${error.message}`, { status: 200 });
      throw error;
    }
  }

  /**
   * Posts `request` (timeouts, retries, proxy, size limit) and returns the raw body of a successful
   * answer, unparsed. Every failure, an OAuth error answer included, is a {@link TokenError}.
   */
  async send(request: TokenRequest): Promise<string> {
    return (await this.#exchange(request)).body;
  }

  async #exchange(request: TokenRequest): Promise<{ body: string; sentAt: number }> {
    const encode = (body: TokenRequest['body']) => (request.format === 'json' ? JSON.stringify(body) : formEncode(body));
    // Every attempt's secrets, so that an error scrubs whatever any attempt sent.
    const secrets = [...(request.secrets ?? [])];
    const sending: TokenRequest = { ...request, secrets };
    const { perAttempt } = request;
    const nextBody = perAttempt
      ? async () => {
          const attempt = await perAttempt(request.signal);
          secrets.push(...attempt.secrets);
          return encode({ ...request.body, ...attempt.fields });
        }
      : undefined;
    const data = nextBody ? undefined : encode(request.body);
    const contentType = request.format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
    const started = Date.now();
    try {
      await this.#ready();
      await this.#waitAsAsked(request);
      const config: Carried = { callerSignal: request.signal, ...(nextBody && { nextBody }) };
      const response = await this.#http.post<string>(this.endpoint.url, data, {
        headers: { 'Content-Type': contentType },
        ...config,
      });
      const sentAt = (response.config as CarriedConfig).attemptStartedAt ?? started;
      return { body: typeof response.data === 'string' ? response.data : '', sentAt };
    } catch (error) {
      throw toTokenError(error, sending, this.#boundary);
    }
  }

  /**
   * Waits until the time the endpoint last asked for (`Retry-After`), so that a new fetch after a
   * failed one does not go out at once: a throttled endpoint would otherwise get the next caller's
   * request before the wait it asked for, and every one after it. The caller's signal (the
   * deadline) ends the wait.
   */
  async #waitAsAsked(request: TokenRequest): Promise<void> {
    const wait = this.#notBefore - performance.now();
    if (wait <= 0) return;
    await pause(wait, request.signal);
    if (request.signal?.aborted) {
      const reason: unknown = request.signal.reason;
      throw isTokenError(reason) ? reason : this.#error(request, 'timeout', 'cancelled before an answer arrived');
    }
  }

  #isRetryable(error: AxiosError): boolean {
    const config = error.config as CarriedConfig | undefined;
    if (axios.isCancel(error)) {
      // The attempt's own timeout is retried; the caller's abort (the cache's deadline) is final.
      return config?.attemptSignal?.aborted === true && config.callerSignal?.aborted !== true;
    }
    const status = error.response?.status;
    if (status === undefined) {
      // No answer: a network error. An answer over the size limit also arrives without a response
      // and will not shrink on a retry.
      return error.code !== undefined && error.code !== AxiosError.ERR_BAD_RESPONSE;
    }
    if (status !== 408 && status !== 429 && status < 500) return false;
    return retryAfter(error) <= this.#maxRetryAfter;
  }

  #error(request: TokenRequest, code: TokenErrorCode, what: string, details: Record<string, unknown> = {}): TokenError {
    return failure(this.#boundary, request, code, what, details);
  }

  /** What the error boundary needs to know of this client: its limits, and the proxy's secrets. */
  get #boundary(): Boundary {
    return {
      endpoint: this.endpoint.label,
      attemptTimeout: this.#attemptTimeout,
      retries: this.#retries,
      maxRetryAfter: this.#maxRetryAfter,
      maxResponseSize: this.#maxResponseSize,
      secrets: this.#route.secrets,
    };
  }
}

function formEncode(body: TokenRequest['body']): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined) continue;
    form.set(key, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  return form.toString();
}
