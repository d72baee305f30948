import axios, { AxiosError } from 'axios';
import { retryAfter } from 'axios-retry';
import { TokenError, codeForOAuthError, isTokenError, type TokenErrorCode } from '../errors.js';
import { forMessage } from '../options.js';
import { Redactor } from './redact.js';
import type { TokenRequest } from './token-client.js';
import { cleanDescription, oneLine, parseErrorAnswer, summary } from './token-response.js';

// The one place where a failure of a request to a token or introspection endpoint becomes a
// TokenError. axios's own errors carry the request's body and headers (`config.data` holds
// `client_secret=…`), so none of them, nor anything they reference, goes past this file: each is
// turned into a TokenError with a one-line message, the OAuth `error`, the status and Entra's
// support ids, every value the request sent scrubbed from whatever the endpoint echoed back.

/** What the boundary needs to know of the client whose request failed. */
export interface Boundary {
  /** The endpoint's origin and path, for messages and the error's `endpoint`. */
  endpoint: string;
  attemptTimeout: number;
  retries: number;
  maxRetryAfter: number;
  maxResponseSize: number;
  /** Secrets of the route (the proxy's credentials), scrubbed as the request's own are. */
  secrets: readonly string[];
}

/** A TokenError for `request`: "<subject> failed: <what> (<endpoint>)", with the scope and endpoint kept. */
export function failure(boundary: Boundary, request: TokenRequest, code: TokenErrorCode, what: string, details: Record<string, unknown> = {}): TokenError {
  const { scope } = request;
  const { endpoint } = boundary;
  const subject = request.subject ?? `token request for ${forMessage(scope)}`;
  return new TokenError(code, `${subject} failed: ${what} (${endpoint})`, { ...(scope !== undefined && { scope }), endpoint, ...details });
}

/** Any failure of `request` (an axios error, an abort, anything thrown) as a TokenError. */
export function toTokenError(error: unknown, request: TokenRequest, boundary: Boundary): TokenError {
  const fail = (code: TokenErrorCode, what: string, details?: Record<string, unknown>) => failure(boundary, request, code, what, details);
  if (isTokenError(error)) return error;
  if (request.signal?.aborted && isTokenError(request.signal.reason)) return request.signal.reason;
  // Everything this request sent that must never come back: its secrets and the proxy's.
  const redactor = new Redactor([...(request.secrets ?? []), ...boundary.secrets]);
  if (!(error instanceof AxiosError)) return fail('network', 'unexpected failure', { cause: safeCause(error, redactor) });
  const response = error.response;
  if (axios.isCancel(error)) {
    if (request.signal?.aborted) return fail('timeout', 'cancelled before an answer arrived');
    return fail('timeout', `no complete answer within ${boundary.attemptTimeout} ms, ${boundary.retries} retries`);
  }
  if (response === undefined) {
    if (error.code === AxiosError.ERR_BAD_RESPONSE) return fail('bad_response', `answer larger than the ${boundary.maxResponseSize} bytes allowed`);
    if (error.code === 'ECONNABORTED' || error.code === AxiosError.ETIMEDOUT) {
      // The system's own connect timeout, shorter than the attempt's.
      return fail('timeout', `no answer (${error.code}) after ${boundary.retries} retries`, { cause: safeCause(error, redactor) });
    }
    const what = `network error ${error.code ?? ''}`.trim();
    return fail('network', `${what} after ${boundary.retries} retries`, { cause: safeCause(error, redactor) });
  }
  const status = response.status;
  const wait = retryAfter(error);
  if (wait > boundary.maxRetryAfter) {
    return fail('throttled', `${status}, asked to retry after ${Math.ceil(wait / 1000)} s (more than the ${boundary.maxRetryAfter / 1000} s allowed)`, {
      status,
      retryAfter: wait,
    });
  }
  const body = typeof response.data === 'string' ? response.data : '';
  const answer = parseErrorAnswer(body);
  // A server may echo what it was sent into any field. The error code and the support ids are
  // kept verbatim, so one that carries a secret is dropped; the description is scrubbed before
  // it is cut, so that no part of a secret survives at the cut.
  const clean = (value?: string) => (value === undefined || redactor.finds(value) ? undefined : value);
  if (answer === undefined || clean(answer.error) === undefined) {
    const what =
      status >= 300 && status < 400 ? 'redirects are not followed' : `not an OAuth error answer (${contentType(response.headers?.['content-type'], redactor)})`;
    return fail('bad_response', `${status} ${what}`, { status });
  }
  const description = answer.description && redactor.redact(answer.description);
  const headline = description ? `${status} ${answer.error}: ${summary(description)}` : `${status} ${answer.error}`;
  return fail(codeForOAuthError(answer.error), headline, {
    status,
    oauthError: answer.error,
    description: description && cleanDescription(description),
    errorCodes: answer.errorCodes,
    traceId: clean(answer.traceId),
    correlationId: clean(answer.correlationId),
  });
}

/** The media type of an answer, for a message: only a plain `type/subtype`, and never a secret. */
function contentType(header: unknown, redactor: Redactor): string {
  const type = typeof header === 'string' ? header.split(';')[0]!.trim() : '';
  if (type === '') return 'no content type';
  return /^[\w.+-]{1,40}\/[\w.+-]{1,60}$/.test(type) && !redactor.finds(type) ? type : 'an unreadable content type';
}

/** A stand-in for an underlying error that keeps its code and message, and nothing it referenced. */
function safeCause(error: unknown, redactor: Redactor): Error {
  const source = error as { code?: unknown; message?: unknown };
  // Scrubbed before it is cut: a cut secret would no longer be recognised.
  const cause = new Error(oneLine(redactor.redact(String(source?.message ?? error)), 300));
  if (typeof source?.code === 'string' && /^[A-Z][A-Z0-9_]{0,39}$/.test(source.code)) Object.assign(cause, { code: source.code });
  return cause;
}
