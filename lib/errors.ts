/**
 * Codes this package sets itself, when the endpoint sent no OAuth `error` (or there was no endpoint).
 * The README has one row per code: what happened, what to do.
 */
export const LOCAL_ERROR_CODES = [
  /** A body that is not a valid token or error answer, whatever the status. */
  'bad_response',
  /** The token endpoint could not be reached (DNS, refused, reset), after the retries. */
  'network',
  /** An attempt or the whole acquisition took longer than allowed. */
  'timeout',
  /** The endpoint asked us to wait (`Retry-After`) longer than allowed. */
  'throttled',
  /**
   * What the environment supplies is missing or unusable (a variable, an endpoint URL, a key, a
   * file, the proxy), found when a source is created or, for a file read per request, then. A
   * mistake in the calling code is a `TypeError` instead.
   */
  'configuration',
  /** An on-behalf-of source was asked for a token outside of a user's request. */
  'no_user_token',
  /**
   * A failure the package cannot classify: an OAuth `error` outside {@link OAUTH_ERROR_CODES} (the
   * value sent is in `oauthError`), or an error from a custom source that cannot be copied for each
   * caller (the original is the `cause`).
   */
  'unknown',
] as const;

/** One of {@link LOCAL_ERROR_CODES}: a code the package sets itself. */
export type LocalErrorCode = (typeof LOCAL_ERROR_CODES)[number];

/**
 * The OAuth 2.0 `error` values a token endpoint sends (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 8707
 * §2, OpenID Connect Core §3.1.2.6), which Entra ID and Texas pass on. An endpoint's `error`
 * outside this list becomes the code `unknown`, with the value sent in `oauthError`.
 */
export const OAUTH_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'invalid_target',
  'invalid_resource',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  /** Entra ID, on-behalf-of: the user must sign in again or satisfy a policy (MFA, conditional access). */
  'interaction_required',
  /** Entra ID, on-behalf-of: the user or an admin has not consented to the scope. */
  'consent_required',
  'login_required',
] as const;

/** One of {@link OAUTH_ERROR_CODES}: an OAuth `error` as the token endpoint sent it. */
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

/**
 * `TokenError['code']`: the endpoint's OAuth `error` when it is one of {@link OAUTH_ERROR_CODES},
 * else a {@link LocalErrorCode}. A closed union, so a `switch` over it is exhaustive; the endpoint's
 * own `error` string, whatever it is, stays in {@link TokenError.oauthError}.
 */
export type TokenErrorCode = LocalErrorCode | OAuthErrorCode;

const OAUTH_CODES: ReadonlySet<string> = new Set(OAUTH_ERROR_CODES);

/** The code for an endpoint's OAuth `error`: itself when it is in the documented set, else `unknown`. */
export function codeForOAuthError(error: string): TokenErrorCode {
  return OAUTH_CODES.has(error) ? (error as OAuthErrorCode) : 'unknown';
}

/**
 * The code and status that events and metrics report for any failure: a `TokenError`'s own, else
 * `unknown` (an error a custom source threw).
 */
export function failureFields(error: unknown): { code: TokenErrorCode; status?: number } {
  if (!isTokenError(error)) return { code: 'unknown' };
  return error.status === undefined ? { code: error.code } : { code: error.code, status: error.status };
}

/** The fields a {@link TokenError} can carry besides its message. */
export interface TokenErrorDetails {
  /** The HTTP status of the token endpoint's answer, when there was one. */
  status?: number | undefined;
  /**
   * The endpoint's OAuth `error` exactly as sent, whenever it sent one (also when it is outside
   * {@link OAUTH_ERROR_CODES} and `code` is `unknown`).
   */
  oauthError?: string | undefined;
  /** The endpoint's `error_description` (one line, shortened, no control characters). */
  description?: string | undefined;
  /** The scope (Texas: target) the token was for. */
  scope?: string | undefined;
  /** The token endpoint, origin and path only (never a query string or credentials). */
  endpoint?: string | undefined;
  /** Entra ID's `error_codes` (the AADSTS numbers). */
  errorCodes?: number[] | undefined;
  /** Entra ID's `trace_id`, for support cases. */
  traceId?: string | undefined;
  /** Entra ID's `correlation_id`, for support cases. */
  correlationId?: string | undefined;
  /** With `throttled`: how long the endpoint asked us to wait, in milliseconds. */
  retryAfter?: number | undefined;
  /** The underlying failure, already stripped of anything secret. */
  cause?: unknown;
}

const brand = Symbol.for('axios-m2m.TokenError');

/**
 * Every failure to get a token. The message is one line a person can act on; the properties keep
 * the OAuth `error` code, the HTTP status and Entra's support identifiers. It never carries a
 * client secret, a client assertion or an access token.
 */
export class TokenError extends Error {
  /** What went wrong, from a closed set: see {@link TokenErrorCode}. */
  declare readonly code: TokenErrorCode;
  /** {@inheritDoc TokenErrorDetails.status} */
  declare readonly status?: number;
  /** {@inheritDoc TokenErrorDetails.oauthError} */
  declare readonly oauthError?: string;
  /** {@inheritDoc TokenErrorDetails.description} */
  declare readonly description?: string;
  /** {@inheritDoc TokenErrorDetails.scope} */
  declare readonly scope?: string;
  /** {@inheritDoc TokenErrorDetails.endpoint} */
  declare readonly endpoint?: string;
  /** {@inheritDoc TokenErrorDetails.errorCodes} */
  declare readonly errorCodes?: number[];
  /** {@inheritDoc TokenErrorDetails.traceId} */
  declare readonly traceId?: string;
  /** {@inheritDoc TokenErrorDetails.correlationId} */
  declare readonly correlationId?: string;
  /** {@inheritDoc TokenErrorDetails.retryAfter} */
  declare readonly retryAfter?: number;

  /**
   * @param code - what went wrong, from the closed set {@link TokenErrorCode}
   * @param message - one line a person can act on, with no secret, assertion or token in it
   * @param details - the fields to keep; those left undefined are not set at all
   */
  constructor(code: TokenErrorCode, message: string, details: TokenErrorDetails = {}) {
    const { cause, ...fields } = details;
    super(message, cause === undefined ? undefined : { cause });
    // Only fields that are set, so logs and JSON stay short.
    const own: Record<string, unknown> = { code, ...fields };
    for (const [key, value] of Object.entries(own)) {
      if (value !== undefined) Object.defineProperty(this, key, { value, enumerable: true });
    }
  }

  /** True for a `TokenError` from any copy of this package (ESM and CJS builds side by side). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isTokenError(value);
  }

  /** `name`, `message` and every field that is set, for loggers that serialise errors as JSON. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, ...Object.fromEntries(Object.entries(this)) };
  }
}

Object.defineProperty(TokenError.prototype, brand, { value: true });
Object.defineProperty(TokenError.prototype, 'name', { value: 'TokenError', configurable: true, writable: true });

/** Whether `value` is a {@link TokenError}, matched by a global brand so that it works across module copies. */
export function isTokenError(value: unknown): value is TokenError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
