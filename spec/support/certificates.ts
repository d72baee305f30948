import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PEM private key and its PEM certificate, made by the openssl CLI (node:crypto cannot issue certificates). */
export interface TestCertificate {
  key: string;
  cert: string;
}

function openssl(args: string[], dir: string): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/**
 * A certificate for `subject` (`/CN=app`), self-signed or issued by `issuer`; `days` negative gives
 * one that expired a day ago. `keyType` 'ec' makes an EC key (which Entra ID does not take).
 */
export function makeCertificate(opts: { subject?: string; days?: number; issuer?: TestCertificate; keyType?: 'rsa' | 'ec'; ca?: boolean } = {}): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'axios-m2m-cert-'));
  try {
    const subject = opts.subject ?? '/CN=axios-m2m-test';
    const days = opts.days ?? 30;
    const keyArgs = opts.keyType === 'ec' ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
    openssl(['genpkey', ...keyArgs, '-out', 'key.pem'], dir);
    openssl(['req', '-new', '-key', 'key.pem', '-subj', subject, '-out', 'req.csr'], dir);
    const ext = opts.ca ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n' : 'basicConstraints=CA:FALSE\n';
    writeFileSync(join(dir, 'ext.cnf'), ext);
    // openssl 3.0 takes -days -1 at least: a certificate whose notAfter is a day before now.
    const start = ['-days', String(Math.max(days, -1))];
    if (opts.issuer) {
      writeFileSync(join(dir, 'ca.pem'), opts.issuer.cert);
      writeFileSync(join(dir, 'ca-key.pem'), opts.issuer.key);
      openssl(['x509', '-req', '-in', 'req.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', ...start, '-extfile', 'ext.cnf', '-out', 'cert.pem'], dir);
    } else {
      openssl(['x509', '-req', '-in', 'req.csr', '-signkey', 'key.pem', ...start, '-extfile', 'ext.cnf', '-out', 'cert.pem'], dir);
    }
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
