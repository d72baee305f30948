import { expect } from 'chai';
import nock from 'nock';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { runExample } from '../../support/run-example.js';
import { startProtectedApi } from '../../support/protected-api.js';

// Runs examples/protected-api.ts and examples/koa-protected-api.ts as a user would (node --import
// tsx, inputs from the environment) against the Texas-faithful server (introspection for the app
// dev-gcp:team:app, and the exchange) and an API that checks the exchanged tokens.

const SCOPE = 'api://dev-gcp.team.other-api/.default';

describe('examples/protected-api.ts and examples/koa-protected-api.ts', function () {
  this.timeout(60_000);
  let texas: TexasServer;
  let api: Awaited<ReturnType<typeof startProtectedApi>>;

  before(async () => {
    nock.restore();
    texas = await startTexasServer();
    api = await startProtectedApi((token) => texas.verify(token));
  });
  after(async () => {
    await api.close();
    await texas.close();
    nock.activate();
  });

  async function run(file: string) {
    const env = {
      NAIS_TOKEN_INTROSPECTION_ENDPOINT: texas.introspectionEndpoint,
      NAIS_TOKEN_EXCHANGE_ENDPOINT: texas.exchangeEndpoint,
      API_URL: api.url,
      API_SCOPE: SCOPE,
      USER_TOKEN: await texas.mintUserToken('alice', { claims: { roles: ['reader'] } }),
      OTHER_APP_TOKEN: await texas.mintUserToken('alice', { audience: 'api://dev-gcp.team.someone-else' }),
    };
    const result = await runExample(file, env);
    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
    for (const token of [env.USER_TOKEN, env.OTHER_APP_TOKEN]) expect(result.stdout).to.not.include(token);
    return result.stdout;
  }

  it('protected-api.ts (Express): 200 as the user with the other API called on her behalf, 401, 401 invalid_token, 403', async () => {
    const stdout = await run('protected-api.ts');
    expect(stdout.trim().split('\n')).to.deep.equal([
      'GET /api/profile as the user: 200 {"me":"alice","otherApi":{"path":"/whoami","sub":"alice","aud":"api://dev-gcp.team.other-api"}}',
      'GET /api/profile without a token: 401 {"error":"missing_token"} (WWW-Authenticate: Bearer)',
      `GET /api/profile with another app's token: 401 {"error":"invalid_token"} (WWW-Authenticate: Bearer error="invalid_token")`,
      'GET /api/admin as the user, without the admin role: 403 {"error":"insufficient_scope"} (WWW-Authenticate: Bearer error="insufficient_scope")',
    ]);
  });

  it('koa-protected-api.ts: 200 as the user with the other API called on her behalf, 401, 401 invalid_token', async () => {
    const stdout = await run('koa-protected-api.ts');
    expect(stdout.trim().split('\n')).to.deep.equal([
      'GET /profile as the user: 200 {"me":"alice","otherApi":{"path":"/whoami","sub":"alice","aud":"api://dev-gcp.team.other-api"}}',
      'GET /profile without a token: 401 {"error":"missing_token"} (WWW-Authenticate: Bearer)',
      `GET /profile with another app's token: 401 {"error":"invalid_token"} (WWW-Authenticate: Bearer error="invalid_token")`,
    ]);
  });
});
