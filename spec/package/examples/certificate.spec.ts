import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nock from 'nock';
import { decodeProtectedHeader } from 'jose';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { makeCertificate } from '../../support/certificates.js';
import { startTexasProtectedApi } from '../../support/protected-api.js';
import { ROOT, runExample } from '../../support/run-example.js';

// Runs examples/certificate.ts as shipped against the testing server's Entra ID endpoint, which
// finds a certificate by its x5t#S256 thumbprint or trusts a chain by subject name and issuer, and
// an API that accepts the endpoint's tokens.

const SCOPE = 'api://dev-gcp.team.other-api/.default';

describe('examples/certificate.ts', function () {
  this.timeout(60_000);
  let server: TexasServer;
  let api: Awaited<ReturnType<typeof startTexasProtectedApi>>;
  let dir: string;
  before(async () => {
    nock.restore();
    if (!existsSync(fileURLToPath(new URL('../../../dist/index.js', import.meta.url)))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    server = await startTexasServer();
    api = await startTexasProtectedApi(server);
    dir = mkdtempSync(join(tmpdir(), 'axios-m2m-cert-example-'));
  });
  after(async () => {
    await api.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    nock.activate();
  });

  const env = (clientId: string, files: Record<string, string>) => ({
    ...files,
    AZURE_CLIENT_ID: clientId,
    AZURE_TENANT_ID: server.tenantId,
    AZURE_AUTHORITY_HOST: server.url,
    API_URL: api.url,
    SCOPE,
  });
  const lastAssertion = (clientId: string) => String(server.requests.filter((r) => r.body.client_id === clientId).at(-1)!.body.client_assertion);

  it('gets a token with a registered certificate (key and certificate files, or one file with both) and calls the API', async () => {
    const credential = makeCertificate({ subject: '/CN=example-app' });
    const clientId = server.registerEntraClient({ certificates: [credential.cert] });
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const bothFile = join(dir, 'both.pem');
    writeFileSync(keyFile, credential.key);
    writeFileSync(certFile, credential.cert);
    writeFileSync(bothFile, `${credential.cert}${credential.key}`);
    const inputs: Record<string, string>[] = [{ CERTIFICATE_KEY_FILE: keyFile, CERTIFICATE_FILE: certFile }, { AZURE_CLIENT_CERTIFICATE_PATH: bothFile }];
    for (const files of inputs) {
      const { code, stdout, stderr } = await runExample('certificate.ts', env(clientId, files));
      expect(code, stderr).to.equal(0);
      expect(stdout).to.match(/^GET \/things: 200 /);
      expect(decodeProtectedHeader(lastAssertion(clientId))).to.have.all.keys('alg', 'typ', 'x5t#S256');
    }
  });

  it('sends the chain with SEND_CHAIN=true, for an app trusted by subject name and issuer', async () => {
    const ca = makeCertificate({ subject: '/CN=example-ca', ca: true });
    const issued = makeCertificate({ subject: '/CN=example-chain-app', issuer: ca });
    const clientId = server.registerEntraClient({ trustedSubjects: [{ subject: 'CN=example-chain-app', issuer: ca.cert }] });
    const keyFile = join(dir, 'chain-key.pem');
    const certFile = join(dir, 'chain.pem');
    writeFileSync(keyFile, issued.key);
    writeFileSync(certFile, `${issued.cert}${ca.cert}`);
    const { code, stdout, stderr } = await runExample('certificate.ts', {
      ...env(clientId, { CERTIFICATE_KEY_FILE: keyFile, CERTIFICATE_FILE: certFile }),
      SEND_CHAIN: 'true',
    });
    expect(code, stderr).to.equal(0);
    expect(stdout).to.match(/^GET \/things: 200 /);
    expect(decodeProtectedHeader(lastAssertion(clientId)).x5c).to.have.length(2);
  });

  it('ends with a configuration error, never the key, when the key does not match the certificate', async () => {
    const credential = makeCertificate({ subject: '/CN=example-app' });
    const other = makeCertificate({ subject: '/CN=example-other' });
    const keyFile = join(dir, 'other-key.pem');
    const certFile = join(dir, 'mismatch-cert.pem');
    writeFileSync(keyFile, other.key);
    writeFileSync(certFile, credential.cert);
    const { code, stdout, stderr } = await runExample('certificate.ts', env('some-client', { CERTIFICATE_KEY_FILE: keyFile, CERTIFICATE_FILE: certFile }));
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    expect(stderr).to.match(/^token error \[configuration\]: .*does not match the certificate \(CN=example-app\)\n$/);
    expect(stderr).not.to.include(other.key.split('\n')[1]);
  });
});
