import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

// X.509 certificates made in-process, for the unit tier (which starts no child process, so not
// the openssl CLI of certificates.ts): node:crypto parses and checks certificates but cannot issue
// them, so the few DER structures of a version 1 certificate are written here and signed with
// node:crypto. Only what checkCertificate() and Entra ID's matching read: subject, issuer,
// validity, public key; no extensions.

/** A key pair and its PEM certificate. */
export interface InProcessCertificate {
  /** The PEM (PKCS #8) private key. */
  key: string;
  keyObject: KeyObject;
  /** The PEM certificate. */
  cert: string;
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const sequence = (...parts: Buffer[]) => tlv(0x30, ...parts);

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const group = [arc & 0x7f];
    for (let high = arc >> 7; high > 0; high >>= 7) group.unshift((high & 0x7f) | 0x80);
    bytes.push(...group);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 §4.1.2.5); seconds, no fraction. */
function time(date: Date): Buffer {
  const digits = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

const rdn = (type: string, value: string) => tlv(0x31, sequence(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))));
/** A distinguished name: the organization (when given), then the common name. */
const name = (commonName: string, organization?: string) => sequence(...(organization === undefined ? [] : [rdn('2.5.4.10', organization)]), rdn('2.5.4.3', commonName));
const SHA256_WITH_RSA = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));

function pem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** A fresh RSA key pair (2048 bits, what Entra ID takes), or an EC one on P-256. */
export function makeKeyPair(type: 'rsa' | 'ec' = 'rsa'): { privateKey: KeyObject; publicKey: KeyObject } {
  return type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/**
 * A certificate for `subject` (a common name, after `organization` if given) over `keys`, valid from `notBefore` to `notAfter`,
 * signed by `issuer` (its common name and an RSA key) or, when none is given, by its own key
 * (which must then be RSA).
 */
export function makeCertificate(opts: {
  subject: string;
  /** An O= before the CN=, for a subject of more than one part. */
  organization?: string;
  keys?: { privateKey: KeyObject; publicKey: KeyObject };
  notBefore?: Date;
  notAfter: Date;
  issuer?: { subject: string; keyObject: KeyObject };
}): InProcessCertificate {
  const keys = opts.keys ?? makeKeyPair();
  const serial = randomBytes(8);
  serial[0]! &= 0x7f; // positive
  const tbs = sequence(
    tlv(0x02, serial),
    SHA256_WITH_RSA,
    name(opts.issuer?.subject ?? opts.subject),
    sequence(time(opts.notBefore ?? new Date(opts.notAfter.getTime() - 86_400_000)), time(opts.notAfter)),
    name(opts.subject, opts.organization),
    keys.publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, opts.issuer?.keyObject ?? keys.privateKey);
  const der = sequence(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.from([0]), signature));
  return { key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), keyObject: keys.privateKey, cert: pem(der) };
}
