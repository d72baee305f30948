// The errors requireToken() and requireTokenKoa() give to the framework: the convention of Express
// and Koa error handlers (and of http-errors and Auth0's express-oauth2-jwt-bearer), so that their
// default handlers answer with the right status and WWW-Authenticate header, and an app's own
// handler can shape the body from `status`, `headers` and `code`. No token, claim or text from
// Texas that could echo the token is in one.

/** Why a request was refused; stable, for a `switch`. */
export const AUTH_ERROR_CODES = [
  /** 401: no `Authorization: Bearer …` header, or a malformed one. */
  'missing_token',
  /** 401: Texas says the token is not active (expired, not for this app, bad signature, ...). */
  'invalid_token',
  /** 403: the token is valid, and `authorize` said no. */
  'insufficient_scope',
  /** 503: Texas could not answer (down, timed out, a bad answer); the token may be fine, so never 401. */
  'temporarily_unavailable',
] as const;

/** One of {@link AUTH_ERROR_CODES}: why a request was refused. */
export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];

const STATUS: { readonly [K in AuthErrorCode]: number } = {
  missing_token: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  temporarily_unavailable: 503,
};

const brand = Symbol.for('axios-m2m.AuthError');

/** The fields an {@link AuthError} can carry besides its code and message. */
export interface AuthErrorDetails {
  /** With `invalid_token`: Texas's reason (`invalid token: ExpiredSignature`), never one that contains the token. */
  reason?: string | undefined;
  /**
   * With `temporarily_unavailable`: how long the client should wait, in milliseconds; the
   * `Retry-After` header carries it rounded up to whole seconds.
   */
  retryAfter?: number | undefined;
  /** With `temporarily_unavailable`: the `TokenError` saying why Texas could not answer. */
  cause?: unknown;
}

/**
 * A request refused by {@link requireToken} or {@link requireTokenKoa}: `status` (and `statusCode`)
 * 401, 403 or 503, the RFC 6750 `WWW-Authenticate` value (or `Retry-After`) in `headers`, a stable
 * `code`, and `expose` (true for 4xx: the message is safe to show the client, as Koa and http-errors
 * read it).
 */
export class AuthError extends Error {
  /** Why the request was refused, from the closed set {@link AUTH_ERROR_CODES}. */
  declare readonly code: AuthErrorCode;
  /** The HTTP status to answer with: 401, 403 or 503. */
  declare status: number;
  /** The same as `status`, for frameworks that read this name (Connect, http-errors). */
  declare statusCode: number;
  /** True for 4xx: the message is safe to show the client (Koa and http-errors read it). */
  declare expose: boolean;
  /** The headers to answer with: `WWW-Authenticate` (RFC 6750) or `Retry-After`. */
  declare readonly headers: Readonly<Record<string, string>>;
  /** {@inheritDoc AuthErrorDetails.reason} */
  declare readonly reason?: string;
  /** {@inheritDoc AuthErrorDetails.retryAfter} */
  declare readonly retryAfter?: number;

  /**
   * @param code - why the request is refused; it decides `status` and `headers`
   * @param message - one line, with no token, claim or text from Texas that could echo the token
   * @param details - Texas's reason, the wait to ask for, the cause
   */
  constructor(code: AuthErrorCode, message: string, details: AuthErrorDetails = {}) {
    const { cause, reason, retryAfter } = details;
    super(message, cause === undefined ? undefined : { cause });
    const status = STATUS[code];
    const headers: Record<string, string> = {};
    if (code === 'missing_token') headers['WWW-Authenticate'] = 'Bearer';
    else if (code === 'temporarily_unavailable') {
      if (retryAfter !== undefined) headers['Retry-After'] = String(Math.ceil(retryAfter / 1000));
    } else headers['WWW-Authenticate'] = `Bearer error="${code}"`;
    const own: Record<string, unknown> = { code, status, statusCode: status, expose: status < 500, headers, reason, retryAfter };
    // Writable, as http-errors makes them: Koa's default handler assigns `err.status` (and throws
    // in strict mode on a read-only one, leaving the request without an answer).
    for (const [key, value] of Object.entries(own)) {
      if (value !== undefined) Object.defineProperty(this, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }

  /** True for an `AuthError` from any copy of this package (ESM and CJS builds side by side). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isAuthError(value);
  }
}

Object.defineProperty(AuthError.prototype, brand, { value: true });
Object.defineProperty(AuthError.prototype, 'name', { value: 'AuthError', configurable: true, writable: true });

/** Whether `value` is an {@link AuthError}, matched by a global brand so that it works across module copies. */
export function isAuthError(value: unknown): value is AuthError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}
