import axios, { AxiosError, type AxiosInstance } from 'axios';
import axiosRetryExport, { exponentialDelay, retryAfter } from 'axios-retry';
import { TokenError, isTokenError } from '../errors.js';
import { count, duration, forMessage } from '../options.js';
import type { AccessToken } from '../types.js';
import type { Endpoint } from './endpoint.js';
import { routeTo, type ProxyOptions } from './proxy.js';
import { BadAnswer, cleanDescription, oneLine, parseErrorAnswer, parseTokenAnswer, summary } from './token-response.js';

// axios-retry's CommonJS file sets `exports.default`. Our CommonJS build imports it the way Node
// imports CommonJS from ESM (esbuild's interop for a "type": "module" package), so there the default
// import is the whole exports object; the ESM build gets the function itself.
const axiosRetry: typeof axiosRetryExport =
  typeof axiosRetryExport === 'function' ? axiosRetryExport : (axiosRetryExport as unknown as { default: typeof axiosRetryExport }).default;

/** How the package talks to a token endpoint. Every field is optional. */
export interface HttpOptions extends ProxyOptions {
  /**
   * Timeout of one attempt, in milliseconds (the whole acquisition has the cache's `timeout`).
   * @default 10_000
   */
  attemptTimeout?: number;
  /**
   * Retries after a network error, a timeout, 408, 429 or a 5xx, with exponential backoff and
   * jitter. Other answers are final: a wrong secret does not get better.
   * @default 3
   */
  retries?: number;
  /**
   * Longest `Retry-After` honoured, in milliseconds; a longer one fails at once with code
   * `throttled` and the wait asked for in `retryAfter`.
   * @default 30_000
   */
  maxRetryAfter?: number;
  /**
   * Largest answer read, in bytes; a larger one is a `bad_response`.
   * @default 65_536
   */
  maxResponseSize?: number;
  /** Allow a plain-http token endpoint on a host that is not loopback. @default false */
  allowInsecure?: boolean;
}

export const DEFAULT_ATTEMPT_TIMEOUT = 10_000;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_MAX_RETRY_AFTER = 30_000;
export const DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024;
const RETRY_DELAY_FACTOR = 200;

interface RequestFields {
  body: Record<string, string | boolean | object | undefined>;
  format: 'json' | 'form';
  /** Values (secrets, assertions, user tokens) scrubbed from anything the endpoint echoes back. */
  secrets?: readonly string[];
  signal?: AbortSignal;
}

/**
 * One request to the endpoint: its body, how to encode it, and what must never show in an error.
 * Errors start with `subject` (`introspection of a token`), by default `token request for <scope>`;
 * `scope`, when given, is also kept on the error.
 */
export type TokenRequest = RequestFields & ({ scope: string; subject?: string } | { scope?: string; subject: string });

/** Posts token requests to one endpoint through a private axios instance, never the user's. */
export class TokenClient {
  readonly endpoint: Endpoint;
  readonly #http: AxiosInstance;
  readonly #attemptTimeout: number;
  readonly #retries: number;
  readonly #maxRetryAfter: number;

  constructor(endpoint: Endpoint, options: HttpOptions = {}) {
    this.endpoint = endpoint;
    this.#attemptTimeout = duration('attemptTimeout', options.attemptTimeout, DEFAULT_ATTEMPT_TIMEOUT, 1);
    this.#retries = count('retries', options.retries, DEFAULT_RETRIES);
    this.#maxRetryAfter = duration('maxRetryAfter', options.maxRetryAfter, DEFAULT_MAX_RETRY_AFTER);
    const maxResponseSize = count('maxResponseSize', options.maxResponseSize, DEFAULT_MAX_RESPONSE_SIZE, 1);
    this.#http = axios.create({
      timeout: this.#attemptTimeout,
      maxRedirects: 0, // a redirect would re-send the secret to wherever it points
      maxContentLength: maxResponseSize,
      responseType: 'text',
      transformResponse: [(data: unknown) => data], // parsed and checked here, not by axios
      headers: { Accept: 'application/json' },
      ...routeTo(endpoint, options),
    });
    axiosRetry(this.#http, {
      retries: this.#retries,
      shouldResetTimeout: true,
      retryCondition: (error) => this.#isRetryable(error),
      retryDelay: (retryNumber, error) => exponentialDelay(retryNumber, error, RETRY_DELAY_FACTOR),
    });
  }

  /** Posts a token request and parses the token in its answer. */
  async post(request: TokenRequest): Promise<AccessToken> {
    const requestedAt = Date.now();
    const body = await this.send(request);
    try {
      return parseTokenAnswer(body, requestedAt);
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
    const data = request.format === 'json' ? JSON.stringify(request.body) : formEncode(request.body);
    const contentType = request.format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
    try {
      const response = await this.#http.post<string>(this.endpoint.url, data, {
        headers: { 'Content-Type': contentType },
        signal: request.signal,
      });
      return typeof response.data === 'string' ? response.data : '';
    } catch (error) {
      throw this.#toTokenError(error, request);
    }
  }

  #isRetryable(error: AxiosError): boolean {
    if (axios.isCancel(error)) return false;
    const status = error.response?.status;
    if (status === undefined) {
      // No answer: a network error or an attempt's timeout. An answer over the size limit also
      // arrives without a response and will not shrink on a retry.
      return error.code !== undefined && error.code !== AxiosError.ERR_BAD_RESPONSE;
    }
    if (status !== 408 && status !== 429 && status < 500) return false;
    return retryAfter(error) <= this.#maxRetryAfter;
  }

  #error(request: TokenRequest, code: string, what: string, details: Record<string, unknown> = {}): TokenError {
    const { scope } = request;
    const endpoint = this.endpoint.label;
    const subject = request.subject ?? `token request for ${forMessage(scope)}`;
    return new TokenError(code, `${subject} failed: ${what} (${endpoint})`, { scope, endpoint, ...details });
  }

  /** The one boundary where axios errors (which carry the request body and headers) end. */
  #toTokenError(error: unknown, request: TokenRequest): TokenError {
    if (isTokenError(error)) return error;
    if (request.signal?.aborted && isTokenError(request.signal.reason)) return request.signal.reason;
    if (!(error instanceof AxiosError)) {
      return this.#error(request, 'network', 'unexpected failure', { cause: safeCause(error, request.secrets) });
    }
    const response = error.response;
    if (axios.isCancel(error)) {
      return this.#error(request, 'timeout', 'cancelled before an answer arrived');
    }
    if (response === undefined) {
      if (error.code === AxiosError.ERR_BAD_RESPONSE) {
        return this.#error(request, 'bad_response', `answer larger than the ${error.config?.maxContentLength} bytes allowed`);
      }
      if (error.code === 'ECONNABORTED' || error.code === AxiosError.ETIMEDOUT) {
        return this.#error(request, 'timeout', `no answer within ${this.#attemptTimeout} ms, ${this.#retries} retries`, {
          cause: safeCause(error, request.secrets),
        });
      }
      const what = `network error ${error.code ?? ''}`.trim();
      return this.#error(request, 'network', `${what} after ${this.#retries} retries`, { cause: safeCause(error, request.secrets) });
    }
    const status = response.status;
    const wait = retryAfter(error);
    if (wait > this.#maxRetryAfter) {
      return this.#error(
        request,
        'throttled',
        `${status}, asked to retry after ${Math.ceil(wait / 1000)} s (more than the ${this.#maxRetryAfter / 1000} s allowed)`,
        { status, retryAfter: wait },
      );
    }
    const body = typeof response.data === 'string' ? response.data : '';
    const answer = parseErrorAnswer(body);
    // A server may echo what it was sent into any field; the ones kept verbatim must not carry it.
    const echoes = (value?: string) => value !== undefined && (request.secrets ?? []).some((s) => s.length >= 4 && value.includes(s));
    if (answer === undefined || echoes(answer.error)) {
      const type = String(response.headers?.['content-type'] ?? 'no content type').split(';')[0];
      const what = status >= 300 && status < 400 ? 'redirects are not followed' : `not an OAuth error answer (${type})`;
      return this.#error(request, 'bad_response', `${status} ${what}`, { status });
    }
    const description = answer.description && redact(answer.description, request.secrets);
    const headline = description ? `${status} ${answer.error}: ${summary(description)}` : `${status} ${answer.error}`;
    return this.#error(request, answer.error, headline, {
      status,
      description: description && cleanDescription(description),
      errorCodes: answer.errorCodes,
      traceId: echoes(answer.traceId) ? undefined : answer.traceId,
      correlationId: echoes(answer.correlationId) ? undefined : answer.correlationId,
    });
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

function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  return out;
}

/** A stand-in for an underlying error that keeps its code and message, and nothing it referenced. */
function safeCause(error: unknown, secrets?: readonly string[]): Error {
  const source = error as { code?: unknown; message?: unknown };
  const cause = new Error(oneLine(redact(String(source?.message ?? error), secrets), 300));
  if (typeof source?.code === 'string') Object.assign(cause, { code: source.code });
  return cause;
}
