import { X509Certificate, createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { EntraError } from './entra-error.js';

// How Entra ID checks a client assertion (docs/protocols/entra.md): the key by `x5t#S256` (or
// `x5t`, or `kid` for an uploaded key) among the client's registered certificates, or the chain in
// `x5c` for a client trusted by subject name and issuer; the signature; iss = sub = client id;
// aud = the token endpoint; exp/nbf with no leeway (stricter than Entra's few minutes of skew, so
// a test never passes on a borderline assertion); a jti. A federated assertion is matched by
// issuer + subject + audience against the client's federated credentials, and verified with that
// issuer's keys.

/** A federated identity credential of a registered client: whose tokens Entra ID takes as its assertion. */
export interface FederatedCredential {
  /** The token issuer (`iss`), compared exactly. */
  issuer: string;
  /** The token subject (`sub`), compared exactly (Entra ID matches case-sensitively). */
  subject: string;
  /** The audience (`aud`) the token must have. @default 'api://AzureADTokenExchange' */
  audience?: string | undefined;
  /** The issuer's public keys. */
  jwks: {
    /** The keys, matched by the token's `kid`. */
    keys: JWK[];
  };
}

/** The credentials of one registered client; give any of them. */
export interface EntraClientCredentials {
  /** A client secret, compared in constant time. */
  clientSecret?: string | undefined;
  /** Public JWKs (by `kid`) for private_key_jwt, as NAIS registers AZURE_APP_JWK's public half. */
  jwks?: JWK[] | undefined;
  /** PEM certificates registered on the app, matched by `x5t#S256` (or `x5t`). */
  certificates?: string[] | undefined;
  /**
   * Subject-name-and-issuer trust: an assertion whose `x5c` leaf has this subject (as Node prints
   * it, `CN=app`) and whose chain ends in `issuer` (a PEM CA certificate) is taken.
   */
  trustedSubjects?:
    | {
        /** The leaf certificate's subject, as Node prints it (`CN=app`). */
        subject: string;
        /** The CA certificate (PEM) the chain must end in. */
        issuer: string;
      }[]
    | undefined;
  /** Federated identity credentials: tokens of other issuers (a Kubernetes service account) taken as the assertion. */
  federated?: FederatedCredential[] | undefined;
}

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

const CERT_ALGS = ['RS256', 'PS256'];
const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace('Z', '0000Z');
const sha256 = (der: Buffer) => createHash('sha256').update(der).digest('base64url');
const sha1 = (der: Buffer) => createHash('sha1').update(der).digest('base64url');

/** Checks `assertion` for `clientId` at `tokenEndpoint`; throws an {@link EntraError} as Entra ID words it. */
export async function verifyAssertion(
  assertion: string,
  clientId: string,
  client: EntraClientCredentials,
  tokenEndpoint: string,
  nowSeconds: number,
  seenJti: Set<string>,
): Promise<void> {
  const malformed = (reason: string) => new EntraError(401, 'invalid_client', 50027, `JWT token is invalid or malformed. [Reason - ${reason}]`);
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw malformed('the assertion is not a signed JWT');
  }
  const federated = claims.iss !== clientId;
  const key = federated ? federatedKey(claims, header, clientId, client) : clientKey(header, clientId, client, nowSeconds);
  try {
    await compactVerify(assertion, key.key, { algorithms: key.algorithms });
  } catch {
    throw new EntraError(
      401,
      'invalid_client',
      700027,
      'Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value.]',
    );
  }
  if (!federated) {
    if (claims.sub !== clientId) {
      throw new EntraError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
    }
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(tokenEndpoint)) throw malformed(`the audience ${JSON.stringify(claims.aud)} is not the token endpoint ${tokenEndpoint}`);
    if (typeof claims.jti !== 'string' || claims.jti === '') throw malformed('the assertion has no jti');
    // Stricter than Entra ID (which keeps no such list): a reused assertion shows it was not made afresh.
    if (seenJti.has(claims.jti)) throw malformed('the assertion was already used (its jti has been seen)');
  }
  const { exp, nbf } = claims;
  if (typeof exp !== 'number' || exp <= nowSeconds || (typeof nbf === 'number' && nbf > nowSeconds)) {
    const from = typeof nbf === 'number' ? nbf : typeof claims.iat === 'number' ? claims.iat : 0;
    throw new EntraError(
      401,
      'invalid_client',
      700024,
      `Client assertion is not within its valid time range. Current time: ${iso(nowSeconds)}, assertion valid from ${iso(from)}, expiry time of assertion ${iso(typeof exp === 'number' ? exp : 0)}.`,
    );
  }
  if (!federated) seenJti.add(claims.jti as string);
}

interface VerificationKey {
  key: KeyObject;
  algorithms: string[];
}

function clientKey(header: ReturnType<typeof decodeProtectedHeader>, clientId: string, client: EntraClientCredentials, nowSeconds: number): VerificationKey {
  const notFound = (thumbprint: string) =>
    new EntraError(
      401,
      'invalid_client',
      700027,
      `Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '${thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
    );
  const x5tS256 = header['x5t#S256'];
  const x5t = header.x5t;
  if (typeof x5tS256 === 'string' || typeof x5t === 'string') {
    const thumbprint = (typeof x5tS256 === 'string' ? x5tS256 : x5t) as string;
    const match = (der: Buffer) => (typeof x5tS256 === 'string' ? sha256(der) === x5tS256 : sha1(der) === x5t);
    const registered = (client.certificates ?? []).map((pem) => new X509Certificate(pem)).find((cert) => match(cert.raw));
    if (registered) return { key: registered.publicKey, algorithms: CERT_ALGS };
    const chained = Array.isArray(header.x5c) ? trustedChain(header.x5c, client, nowSeconds) : undefined;
    if (chained && match(chained.raw)) return { key: chained.publicKey, algorithms: CERT_ALGS };
    throw notFound(thumbprint);
  }
  const jwk = typeof header.kid === 'string' ? (client.jwks ?? []).find((k) => k.kid === header.kid) : undefined;
  if (jwk === undefined) throw notFound(String(header.kid ?? 'none'));
  const alg = header.alg ?? '';
  return { key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), algorithms: [alg] };
}

/** The leaf of `x5c` when the client trusts its subject and the chain ends at the trusted issuer. */
function trustedChain(x5c: unknown[], client: EntraClientCredentials, nowSeconds: number): X509Certificate | undefined {
  try {
    const chain = x5c.map((der) => new X509Certificate(Buffer.from(String(der), 'base64')));
    const leaf = chain[0];
    if (leaf === undefined) return undefined;
    const at = new Date(nowSeconds * 1000);
    for (const trust of client.trustedSubjects ?? []) {
      if (leaf.subject.replace(/\n/g, ', ') !== trust.subject) continue;
      const root = new X509Certificate(trust.issuer);
      const links = [...chain, root];
      const valid = chain.every((cert, i) => cert.verify(links[i + 1]!.publicKey) && new Date(cert.validFrom) <= at && at <= new Date(cert.validTo));
      if (valid) return leaf;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function federatedKey(
  claims: ReturnType<typeof decodeJwt>,
  header: ReturnType<typeof decodeProtectedHeader>,
  clientId: string,
  client: EntraClientCredentials,
): VerificationKey {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const credential = (client.federated ?? []).find(
    (f) => f.issuer === claims.iss && f.subject === claims.sub && audiences.includes(f.audience ?? TOKEN_EXCHANGE_AUDIENCE),
  );
  if (credential === undefined) {
    throw new EntraError(
      400,
      'invalid_request',
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${String(claims.iss)}'. Assertion Subject: '${String(claims.sub)}'. Assertion Audience: '${audiences.join(',')}'.`,
    );
  }
  const jwk = credential.jwks.keys.find((k) => header.kid === undefined || k.kid === header.kid);
  if (jwk === undefined) {
    throw new EntraError(401, 'invalid_client', 700027, `Client assertion failed signature validation. [Reason - The key was not found., app Id '${clientId}'.]`);
  }
  return { key: createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), algorithms: [header.alg ?? ''] };
}
