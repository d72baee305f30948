import { decodeJwt, decodeProtectedHeader } from '../http/decode-jwt.js';

// What a token must look like before Texas is asked about it. Texas checks far more (the
// signature, issuer, audience), but every token it can accept is a compact JWS with a key id and
// an `exp`: a token without that shape would cost a request to Texas (and a slot of the bounded
// concurrency) only to be refused. Each check here refuses only what Texas refuses too, so a
// token Texas would accept is never turned away locally.

/**
 * How far past its `exp` a token may be and still be sent to Texas, in milliseconds: Texas's own
 * leeway on the token's times (60 s), so a token Texas would still accept is never refused here.
 */
export const EXPIRED_TOKEN_LEEWAY = 60_000;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Why `token` cannot be one Texas accepts, or `undefined` when it has the shape of one: three
 * base64url parts, a JSON header with `alg` (not `none`) and `kid`, a JSON payload with a numeric
 * `exp` no more than {@link EXPIRED_TOKEN_LEEWAY} past `now` (epoch ms, as `exp` is epoch time).
 * Unverified: only the shape is read, never trusted.
 */
export function shapeRefusal(token: string, now: number): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return 'not a JWS: expected three base64url parts';
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return 'not a JWS: the header is not a JSON object';
  }
  if (typeof header.alg !== 'string' || header.alg === '') return 'not a JWS: the header has no alg';
  // An unsigned token (RFC 7519 §6) is never valid as a bearer token, whatever its claims.
  if (header.alg.toLowerCase() === 'none') return 'not a JWS: the header has alg none';
  if (typeof header.kid !== 'string' || header.kid === '') return 'not a JWS: the header has no kid';
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    return 'not a JWS: the payload is not a JSON object';
  }
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return 'token has no numeric exp';
  if (exp * 1000 < now - EXPIRED_TOKEN_LEEWAY) return `token expired: exp more than ${EXPIRED_TOKEN_LEEWAY / 1000} s past`;
  return undefined;
}
