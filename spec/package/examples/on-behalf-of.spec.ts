import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startExchangeWorld, type ExchangeWorld } from '../../support/exchange-world.js';
import { runExample } from '../../support/run-example.js';

// Runs examples/express-on-behalf-of.ts and examples/koa-on-behalf-of.ts as a user would
// (node --import tsx, inputs from the environment) against the loopback Texas exchange endpoint
// and API. The examples import 'axios-m2m', which resolves to the built package in dist/.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SCOPE = 'api://dev-gcp.team.other-api/.default';
/** The exchanged token's audience: the scope's resource, without `/.default`, as Entra ID issues it. */
const AUDIENCE = SCOPE.replace(/\/\.default$/, '');

describe('examples/express-on-behalf-of.ts and examples/koa-on-behalf-of.ts', function () {
  this.timeout(60_000);
  let servers: ExchangeWorld;

  before(async () => {
    const built = (() => {
      try {
        return readFileSync(fileURLToPath(new URL('../../../dist/index.js', import.meta.url)), 'utf8').includes('captureUserTokenKoa');
      } catch {
        return false;
      }
    })();
    if (!built) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    servers = await startExchangeWorld();
  });
  after(() => servers.close());
  beforeEach(() => {
    servers.reset();
  });

  for (const file of ['express-on-behalf-of.ts', 'koa-on-behalf-of.ts']) {
    it(`${file} calls the API as the user, answers 401 without a user, and exits by itself`, async () => {
      const userToken = await servers.mintUserToken('example-user');
      const { code, stdout, stderr } = await runExample(file, {
        NAIS_TOKEN_EXCHANGE_ENDPOINT: servers.texasExchangeEndpoint,
        API_URL: servers.apiUrl,
        API_SCOPE: SCOPE,
        USER_TOKEN: userToken,
      });
      expect(stderr).to.equal('');
      expect(code).to.equal(0);
      expect(stdout.trim().split('\n')).to.deep.equal([
        `GET /profile as the user: 200 {"otherApi":{"sub":"example-user","aud":"${AUDIENCE}"}}`,
        'GET /profile without a token: 401 {"error":"no_user_token"}',
      ]);
      // The API verified a token exchanged for that user; Texas got the bare user token.
      expect(servers.apiSeen.map((s) => [s.sub, s.aud])).to.deep.equal([['example-user', AUDIENCE]]);
      expect(servers.exchanges).to.deep.equal([{ identity_provider: 'entra_id', target: SCOPE, user_token: userToken }]);
    });
  }

  it('koa-on-behalf-of.ts exchanges through TokenX when TOKEN_PROVIDER=tokenx', async () => {
    const userToken = await servers.mintUserToken('tokenx-user', { identityProvider: 'tokenx' });
    const { code, stdout } = await runExample('koa-on-behalf-of.ts', {
      NAIS_TOKEN_EXCHANGE_ENDPOINT: servers.texasExchangeEndpoint,
      API_URL: servers.apiUrl,
      API_SCOPE: 'dev-gcp:team:other-api',
      TOKEN_PROVIDER: 'tokenx',
      USER_TOKEN: userToken,
    });
    expect(code).to.equal(0);
    expect(stdout).to.include('GET /profile as the user: 200 {"otherApi":{"sub":"tokenx-user","aud":"dev-gcp:team:other-api"}}');
    expect(servers.exchanges).to.deep.equal([{ identity_provider: 'tokenx', target: 'dev-gcp:team:other-api', user_token: userToken }]);
  });
});
