import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nock from 'nock';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { startTexasProtectedApi } from '../../support/protected-api.js';
import { ROOT, runExample } from '../../support/run-example.js';

// Runs examples/workload-identity.ts as shipped, with the AKS variables and with NAIS's token
// path, against the testing server's Entra ID endpoint and an API that accepts its tokens.

describe('examples/workload-identity.ts', function () {
  this.timeout(60_000);
  let server: TexasServer;
  let api: Awaited<ReturnType<typeof startTexasProtectedApi>>;
  let dir: string;
  before(async () => {
    nock.restore();
    if (!existsSync(fileURLToPath(new URL('../../../dist/index.js', import.meta.url)))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    server = await startTexasServer();
    api = await startTexasProtectedApi(server);
    dir = mkdtempSync(join(tmpdir(), 'axios-m2m-wi-example-'));
  });
  after(async () => {
    await api.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    nock.activate();
  });

  for (const [name, audience, variable] of [
    ['AKS', undefined, 'AZURE_FEDERATED_TOKEN_FILE'],
    ['NAIS', 'nais', 'NAIS_SERVICE_ACCOUNT_TOKEN_PATH'],
  ] as const) {
    it(`gets a token with the ${name} token file and calls the API`, async () => {
      const file = join(dir, name);
      writeFileSync(file, await server.mintServiceAccountToken(audience ? { audience } : {}));
      const { code, stdout, stderr } = await runExample('workload-identity.ts', {
        [variable]: file,
        AZURE_CLIENT_ID: server.entraClient.clientId,
        AZURE_TENANT_ID: server.tenantId,
        AZURE_AUTHORITY_HOST: server.url,
        API_URL: api.url,
        SCOPE: 'api://dev-gcp.team.other-api/.default',
      });
      expect(code, stderr).to.equal(0);
      expect(stdout).to.match(/^GET \/things: 200 /);
    });
  }
});
