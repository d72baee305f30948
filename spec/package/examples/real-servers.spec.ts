import { expect } from 'chai';
import nock from 'nock';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { startOidcServer, type OidcServer } from '../../support/oidc-server.js';
import { startJwtApi } from '../../support/protected-api.js';
import { runExample } from '../../support/run-example.js';
import { startTexasProtectedApi } from '../../support/protected-api.js';

// The recipes that talk to a token endpoint, run as a user would (node --import tsx, inputs from
// the environment) against the real protocol peers rather than stand-ins: the Texas-faithful
// server, panva's oidc-provider as an Entra-like authorization server, and APIs that verify the
// tokens (the Texas server's own check; jose against the provider's JWKS). recipes.spec.ts runs
// every example, these included, against scripted stand-ins for the cases real servers cannot
// stage (a 503, a vault, Prometheus output).

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const AUDIENCE = 'api://dev-gcp.team.other-api';

describe('examples/ against the real servers', function () {
  this.timeout(60_000);
  let sidecar: TexasServer;
  let texasApi: Awaited<ReturnType<typeof startTexasProtectedApi>>;
  let as: OidcServer;
  let jwtApi: Awaited<ReturnType<typeof startJwtApi>>;

  before(async () => {
    nock.restore();
    sidecar = await startTexasServer();
    texasApi = await startTexasProtectedApi(sidecar);
    as = await startOidcServer({ resources: [SCOPE] });
    jwtApi = await startJwtApi({ issuer: as.issuer, jwksUri: as.jwksUri, audience: AUDIENCE });
  });
  after(async () => {
    await jwtApi.close();
    await as.close();
    await texasApi.close();
    await sidecar.close();
    nock.activate();
  });

  const entraEnv = (secret = as.clientSecret) => ({
    AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: as.tokenEndpoint,
    AZURE_APP_CLIENT_ID: as.clientId,
    AZURE_APP_CLIENT_SECRET: secret,
    API_URL: jwtApi.url,
    SCOPE,
  });

  it('attach-texas.ts: three requests the API accepts, one token request to Texas', async () => {
    const before = sidecar.requests.length;
    const { code, stdout, stderr } = await runExample('attach-texas.ts', { NAIS_TOKEN_ENDPOINT: sidecar.tokenEndpoint, API_URL: texasApi.url, SCOPE });
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(stdout.match(new RegExp(`GET /things #\\d: 200 \\{"path":"/things","sub":"app","aud":"${AUDIENCE}"\\}`, 'g'))).to.have.length(3);
    expect(sidecar.requests.slice(before).map((r) => [r.path, r.status, r.body])).to.deep.equal([
      ['/api/v1/token', 200, { identity_provider: 'entra_id', target: SCOPE }],
    ]);
  });

  it('client-credentials.ts: a JWT from oidc-provider that the API verifies, fetched once', async () => {
    const tokensBefore = as.tokenRequests;
    const seenBefore = jwtApi.seen.length;
    const { code, stdout, stderr } = await runExample('client-credentials.ts', entraEnv());
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(stdout).to.include('GET /things twice: 200, 200; scopes cached: 1');
    expect(stdout).to.include(`"sub":"secret-client","aud":"${AUDIENCE}"`);
    expect(as.tokenRequests - tokensBefore).to.equal(1);
    expect(jwtApi.seen.slice(seenBefore).map((s) => s.status)).to.deep.equal([200, 200]);
  });

  it("client-credentials.ts: oidc-provider's invalid_client for a wrong secret, in one line, exit code 1", async () => {
    const { code, stdout, stderr } = await runExample('client-credentials.ts', entraEnv('a-wrong-secret-value'));
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    expect(stderr.trim().split('\n')).to.have.length(1);
    expect(stderr).to.match(new RegExp(`^token error \\[invalid_client\\]: token request for ${SCOPE} failed: 401 invalid_client`));
    expect(stderr).to.not.include('a-wrong-secret-value');
  });

  it("express-app.ts: fromEnv() picks client credentials; oidc-provider's refusal becomes a 502 without details", async () => {
    const { code, stdout, stderr } = await runExample('express-app.ts', entraEnv());
    expect(code).to.equal(0);
    expect(stdout).to.include(`GET /things: 200 {"things":{"path":"/things","sub":"secret-client","aud":"${AUDIENCE}"}}`);
    expect(stdout).to.include('GET /broken: 502 {"error":"upstream authentication failed"}');
    expect(stdout).to.not.include('invalid_target');
    expect(stderr).to.include('token error [invalid_target]'); // the details go to the log
  });
});
