/** Stands in for a signature: the scripted Texas and nock check none, and a JWS's third part is never empty. */
const SIGNATURE = Buffer.from('signature-signature-signature').toString('base64url');

/**
 * A token of the shape introspection() checks before it asks Texas (three base64url parts, a
 * header with `alg` and `kid`, a payload with `exp`), unsigned, for specs whose Texas is scripted
 * and checks no signature. `exp` defaults to an hour after `Date.now()` at the call (a faked
 * clock's, when one is installed: make the token after installing it); `claims` and `header` add
 * to or override the defaults (`{ exp: undefined }` leaves `exp` out). Distinct claims, distinct tokens.
 */
export function fakeJwt(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'spec-key', typ: 'JWT', ...header })}.${part({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}.${SIGNATURE}`;
}
