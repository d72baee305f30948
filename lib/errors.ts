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
  /** Missing or invalid configuration, found when a source is created or a request has no scope. */
  'configuration',
  /** An on-behalf-of source was asked for a token outside of a user's request. */
  'no_user_token',
] as const;

export type LocalErrorCode = (typeof LOCAL_ERROR_CODES)[number];

/** The OAuth 2.0 / Entra ID / Texas `error` values seen in practice. Others pass through as sent. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_resource'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable';

/**
 * `TokenError['code']`: the endpoint's OAuth `error` when it sent one, else a {@link LocalErrorCode}.
 * `string & {}` keeps unknown OAuth codes typeable without losing the literals' narrowing.
 */
export type TokenErrorCode = LocalErrorCode | OAuthErrorCode | (string & {});

/** The fields a {@link TokenError} can carry besides its message. */
export interface TokenErrorDetails {
  /** The HTTP status of the token endpoint's answer, when there was one. */
  status?: number;
  /** The endpoint's `error_description` (one line, shortened, no control characters). */
  description?: string;
  /** The scope (Texas: target) the token was for. */
  scope?: string;
  /** The token endpoint, origin and path only (never a query string or credentials). */
  endpoint?: string;
  /** Entra ID's `error_codes` (the AADSTS numbers). */
  errorCodes?: number[];
  /** Entra ID's `trace_id`, for support cases. */
  traceId?: string;
  /** Entra ID's `correlation_id`, for support cases. */
  correlationId?: string;
  /** With `throttled`: how long the endpoint asked us to wait, in milliseconds. */
  retryAfter?: number;
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
  declare readonly code: TokenErrorCode;
  declare readonly status?: number;
  declare readonly description?: string;
  declare readonly scope?: string;
  declare readonly endpoint?: string;
  declare readonly errorCodes?: number[];
  declare readonly traceId?: string;
  declare readonly correlationId?: string;
  declare readonly retryAfter?: number;

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
