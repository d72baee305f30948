import { KeyObject, X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { TokenError } from '../errors.js';
import { signAssertion } from './client-assertion.js';

/**
 * A Node `crypto.KeyObject`, described by its shape so that the package's declarations need no
 * `@types/node` in a consumer's project. At run time it must be a real `KeyObject`.
 */
export interface PrivateKeyObject {
  /** `'private'` for a key that can sign. */
  readonly type: string;
  /** The key's algorithm family (`'rsa'`, `'ec'`, …). */
  readonly asymmetricKeyType?: string | undefined;
}

/** A certificate credential: the private key and the certificate Entra ID has registered for the app. */
export interface CertificateCredential {
  /** The PEM private key (RSA), or a `KeyObject` (`crypto.createPrivateKey(...)`). */
  key: string | PrivateKeyObject;
  /** The PEM certificate, leaf first when it holds a chain. */
  cert: string;
  /** Send the chain as `x5c` (for subject name and issuer matching). @default false */
  sendChain?: boolean | undefined;
}

/** A certificate checked at creation; only its expiry is checked again, before each assertion. */
export interface CheckedCertificate {
  key: KeyObject;
  /** base64url SHA-256 of the leaf's DER: the `x5t#S256` header. */
  thumbprint: string;
  /** The chain, base64 DER, leaf first; only when sendChain. */
  x5c?: string[];
  /** The leaf's notAfter (epoch ms): from then on no assertion is signed with it. */
  notAfter: number;
  /** The refusal once the leaf has expired, naming it and where it was given (never the key). */
  expiredMessage: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Checks a certificate credential: an RSA key (Entra ID takes RSA certificates only), that matches
 * the leaf, which has not expired. Every failure is a `TokenError` (code `configuration`) naming
 * what is wrong, never quoting the key.
 */
export function checkCertificate(value: CertificateCredential, what: string): CheckedCertificate {
  const bad = (problem: string): never => {
    throw new TokenError('configuration', `${what} ${problem}`);
  };
  if (typeof value !== 'object' || value === null) return bad('is not { key, cert }');
  const pems = typeof value.cert === 'string' ? (value.cert.match(PEM_CERT) ?? []) : [];
  if (pems.length === 0) bad('has no PEM certificate in cert');
  let chain: X509Certificate[] = [];
  try {
    chain = pems.map((pem) => new X509Certificate(pem));
  } catch {
    bad('has a certificate that does not parse');
  }
  const leaf = chain[0]!;
  const raw = value.key;
  let key: KeyObject;
  if (raw instanceof KeyObject) {
    key = raw;
  } else if (typeof raw === 'string') {
    try {
      key = createPrivateKey(raw);
    } catch {
      // No cause: the parser's error may quote the key.
      return bad('has a key that is not a PEM private key');
    }
  } else {
    return bad('has a key that is neither a PEM string nor a KeyObject');
  }
  if (key.type !== 'private') bad('has a public key; signing needs the private key');
  if (key.asymmetricKeyType !== 'rsa') bad(`has a key of type ${String(key.asymmetricKeyType)}; Entra ID takes RSA certificates only`);
  if (!leaf.checkPrivateKey(key)) bad(`has a key that does not match the certificate (${leaf.subject.replace(/\n/g, ', ')})`);
  const notAfter = new Date(leaf.validTo).getTime();
  const expiredMessage = `${what} has a certificate that expired on ${new Date(notAfter).toISOString()} (${leaf.subject.replace(/\n/g, ', ')})`;
  if (notAfter <= Date.now()) throw new TokenError('configuration', expiredMessage);
  return {
    key,
    thumbprint: createHash('sha256').update(leaf.raw).digest('base64url'),
    ...(value.sendChain === true && { x5c: chain.map((cert) => cert.raw.toString('base64')) }),
    notAfter,
    expiredMessage,
  };
}

/**
 * A fresh assertion signed with the certificate's key. PS256: Microsoft recommends it over RS256
 * for client assertions, and Entra ID takes it for every RSA certificate.
 */
export async function signCertificateAssertion(cert: CheckedCertificate, claims: { clientId: string; audience: string }): Promise<string> {
  // A service outlives its certificate when nobody rotates it: say so here, not through Entra ID's
  // invalid_client for an assertion it refuses.
  if (Date.now() >= cert.notAfter) throw new TokenError('configuration', cert.expiredMessage);
  return signAssertion({ alg: 'PS256', typ: 'JWT', 'x5t#S256': cert.thumbprint, ...(cert.x5c && { x5c: cert.x5c }) }, cert.key, claims);
}
