import { createPrivateKey, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK, JWTHeaderParameters, SignJWT } from 'jose';
import { TokenError } from '../errors.js';

/** `client_assertion_type` for a JWT client assertion (RFC 7523), as Entra ID expects it. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * How long an assertion is valid, in seconds. Entra ID takes one to ten minutes; a new assertion is
 * made for every attempt of a token request, so it only has to outlive one attempt.
 */
export const ASSERTION_LIFETIME_SECONDS = 300;

/** A private key checked and imported once, when the source is created. */
export interface AssertionKey {
  readonly key: KeyObject;
  readonly kid: string;
  readonly alg: string;
}

/** The claims a client assertion is made for. */
export interface AssertionClaims {
  clientId: string;
  /** The token endpoint URL. */
  audience: string;
}

// Which `alg` a key can sign with; the first is the default when the JWK names none.
// RSA defaults to RS256 (what Entra ID documents; PS256 works if the JWK says so).
const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_ALGS: Record<string, string[]> = { prime256v1: ['ES256'], secp384r1: ['ES384'], secp521r1: ['ES512'] };

/**
 * Checks and imports a private JWK (an object or its JSON string), synchronously, so that a source
 * fails when it is created rather than on its first request. Every failure is a `TokenError` with
 * code `configuration` whose message names the problem and never quotes the key.
 */
export function importAssertionKey(value: unknown, what: string): AssertionKey {
  const bad = (problem: string): never => {
    throw new TokenError('configuration', `${what} ${problem}`);
  };
  let jwk: unknown = value;
  if (typeof value === 'string') {
    try {
      jwk = JSON.parse(value);
    } catch {
      // No cause: JSON.parse's message quotes the text around the error, which is key material.
      bad('is not valid JSON');
    }
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return bad('is not a JWK (a JSON object)');
  const fields = jwk as JWK;
  if (typeof fields.kid !== 'string' || fields.kid === '') bad('has no kid (Entra ID finds the key to verify with by kid)');
  if (fields.d === undefined) bad('is a public key; signing a client assertion needs the private key (with "d")');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: fields as JsonWebKey, format: 'jwk' });
  } catch {
    // No cause: the underlying error is not needed to act, and must not drag the key along.
    return bad(`is not a usable private key (kty ${JSON.stringify(fields.kty ?? null)})`);
  }
  const algs = allowedAlgs(key);
  if (algs.length === 0) bad(`has a key type that cannot sign client assertions (${key.asymmetricKeyType})`);
  const modulusLength = key.asymmetricKeyDetails?.modulusLength;
  if (modulusLength !== undefined && modulusLength < 2048) bad(`is an RSA key of ${modulusLength} bits; at least 2048 are needed`);
  const alg = fields.alg ?? algs[0]!;
  if (!algs.includes(alg)) bad(`names alg ${JSON.stringify(alg)}, which its key cannot sign with (use one of ${algs.join(', ')})`);
  return { key, kid: fields.kid!, alg };
}

function allowedAlgs(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return RSA_ALGS;
    case 'rsa-pss':
      return RSA_ALGS.filter((alg) => alg.startsWith('PS'));
    case 'ec':
      return EC_ALGS[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? [];
    case 'ed25519':
      return ['EdDSA'];
    default:
      return [];
  }
}

/**
 * A fresh client assertion (RFC 7523 section 3, as Entra ID documents it): `iss` = `sub` = the
 * client id, `aud` = the token endpoint, a new `jti`, `iat` = `nbf` = now, `exp` a few minutes on.
 * Made for every attempt of a token request, retries included: the endpoint may refuse a `jti` it
 * has already seen.
 */
export function signClientAssertion(signingKey: AssertionKey, claims: AssertionClaims): Promise<string> {
  return signAssertion({ alg: signingKey.alg, kid: signingKey.kid, typ: 'JWT' }, signingKey.key, claims);
}

/**
 * The claims every client assertion carries, under `header`, signed with `key`: shared by a JWK's
 * assertion and a certificate's, which differ only in their header and key.
 */
export async function signAssertion(header: JWTHeaderParameters, key: Parameters<SignJWT['sign']>[0], claims: AssertionClaims): Promise<string> {
  // jose is loaded on the first assertion, not when the package is imported: most services use a
  // secret or Texas and never sign anything, and jose costs milliseconds of start-up to import.
  // Node caches the module.
  const { SignJWT } = await import('jose');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(claims.clientId)
    .setSubject(claims.clientId)
    .setAudience(claims.audience)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
    .sign(key);
}
