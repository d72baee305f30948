// The one rule for what a Bearer `Authorization` header is, for every place that reads one
// (captureUserToken(), requireToken(), introspection()): the same header is a user's token
// everywhere or nowhere. Strict where a lenient reading would guess: RFC 6750 §2.1 says
// `Bearer 1*SP b64token`, and anything outside that alphabet (a comma from two joined headers, a
// space inside, a non-ASCII character) is not a token to forward to Texas or another API.

/**
 * RFC 6750's b64token (the token68 of RFC 7235), the alphabet of a bearer token; a JWT is a
 * subset. `=` only as padding at the end.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The scheme, case-insensitive (RFC 7235 §2.1), then one or more spaces (`1*SP`: a tab there is
 * not the grammar, and requireToken() has always refused it), then the token. Spaces or tabs
 * around the whole value are optional whitespace, no part of the value (RFC 9110 §5.5).
 */
const BEARER_CREDENTIALS = /^[ \t]*bearer +([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i;

/**
 * Longer than any real token (an Entra ID token with many group claims stays under 8 KiB, and
 * Node refuses a request whose headers pass 16 KiB): not read, not sent on, not kept.
 */
export const MAX_BEARER_TOKEN_LENGTH = 16 * 1024;

/**
 * Whether `token` (without `Bearer `) has the shape of a bearer token: 1 to
 * {@link MAX_BEARER_TOKEN_LENGTH} characters of RFC 6750's b64token alphabet.
 */
export function isBearerToken(token: string): boolean {
  return token.length <= MAX_BEARER_TOKEN_LENGTH && B64TOKEN.test(token);
}

/**
 * The token of an `Authorization` header value when it is `Bearer <token>`, else `undefined`.
 *
 * - The scheme in any case, one or more spaces after it (not a tab), optional spaces or tabs
 *   around the whole value.
 * - The token: RFC 6750's b64token alphabet, at most {@link MAX_BEARER_TOKEN_LENGTH} characters.
 *   So `Bearer` alone, an empty token, a space or comma inside (two headers joined into one),
 *   a non-ASCII character or an over-long value read as no token.
 * - Several headers (an array): only an array of exactly one value is read. Two `Authorization`
 *   headers are ambiguous, and picking one could run a request as a user the client did not mean.
 */
export function bearerTokenOf(authorization: string | readonly string[] | undefined): string | undefined {
  let value: unknown = authorization;
  if (Array.isArray(value)) value = value.length === 1 ? value[0] : undefined;
  // The length check first: a regex over a megabyte of header is work an attacker chooses.
  if (typeof value !== 'string' || value.length > MAX_BEARER_TOKEN_LENGTH + 64) return undefined;
  const token = BEARER_CREDENTIALS.exec(value)?.[1];
  return token !== undefined && token.length <= MAX_BEARER_TOKEN_LENGTH ? token : undefined;
}
