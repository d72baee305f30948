import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nock from 'nock';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { startTexasProtectedApi } from '../../support/protected-api.js';
import { ROOT, runExample } from '../../support/run-example.js';

// Runs examples/client-assertion.ts as shipped against the testing server's Entra ID endpoint,
// which checks the assertion's signature against the client's registered key (by kid), its
// iss/sub/aud/exp and that its jti is new.

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const KID = 'vault-key-1';

describe('examples/client-assertion.ts', function () {
  this.timeout(60_000);
  let server: TexasServer;
  let api: Awaited<ReturnType<typeof startTexasProtectedApi>>;
  let dir: string;
  let keyFile: string;
  let clientId: string;
  before(async () => {
    nock.restore();
    if (!existsSync(fileURLToPath(new URL('../../../dist/index.js', import.meta.url)))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    server = await startTexasServer();
    api = await startTexasProtectedApi(server);
    dir = mkdtempSync(join(tmpdir(), 'axios-m2m-assertion-example-'));
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: KID };
    clientId = server.registerEntraClient({ jwks: [jwk] });
  });
  after(async () => {
    await api.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    nock.activate();
  });

  const env = (extra: Record<string, string>) => ({
    SIGNING_KEY_FILE: keyFile,
    SIGNING_KEY_ID: KID,
    AZURE_CLIENT_ID: clientId,
    AZURE_TENANT_ID: server.tenantId,
    AZURE_AUTHORITY_HOST: server.url,
    API_URL: api.url,
    SCOPE,
    ...extra,
  });
  const assertions = () => server.requests.filter((r) => r.body.client_id === clientId).map((r) => String(r.body.client_assertion));

  it('gets a token with the assertion its callback signs, a new jti each run, and calls the API', async () => {
    for (let run = 0; run < 2; run++) {
      const { code, stdout, stderr } = await runExample('client-assertion.ts', env({}));
      expect(code, stderr).to.equal(0);
      expect(stdout).to.match(/^GET \/things: 200 /);
    }
    const sent = assertions();
    expect(sent).to.have.length(2);
    expect(decodeProtectedHeader(sent[0]!)).to.deep.equal({ alg: 'RS256', typ: 'JWT', kid: KID });
    const [first, second] = sent.map((a) => decodeJwt(a));
    expect(first).to.include({ iss: clientId, sub: clientId, aud: `${server.url}/${server.tenantId}/oauth2/v2.0/token` });
    expect(first!.jti).not.to.equal(second!.jti);
  });

  it("ends with Entra ID's refusal, never the assertion, when the key is not the app's", async () => {
    const before = assertions().length;
    const { code, stdout, stderr } = await runExample('client-assertion.ts', env({ SIGNING_KEY_ID: 'not-registered' }));
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    expect(stderr).to.match(/^token error \[invalid_client\]: .*AADSTS700027/);
    const sent = assertions().slice(before);
    expect(sent).to.have.length.above(0);
    for (const assertion of sent) expect(stderr).not.to.include(assertion.split('.')[2]);
  });

  it('ends with a token error naming the callback, when the signer fails (a vault that cannot be reached)', async () => {
    const { code, stdout, stderr } = await runExample('client-assertion.ts', env({ SIGNING_KEY_FILE: join(dir, 'missing.pem') }));
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    expect(stderr).to.match(/^token error \[[a-z_]+\]: .*clientAssertion/);
  });
});
