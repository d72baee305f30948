import { expect } from 'chai';
import nock from 'nock';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { startTexasProtectedApi } from '../../support/protected-api.js';
import { runExample } from '../../support/run-example.js';

// examples/fetch.ts and examples/sdk-token-provider.ts as a user runs them (node --import tsx,
// inputs from the environment), against the Texas-faithful server and an API that verifies its
// tokens.

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const AUDIENCE = 'api://dev-gcp.team.other-api';

describe('examples/fetch.ts and examples/sdk-token-provider.ts', function () {
  this.timeout(60_000);
  let sidecar: TexasServer;
  let api: Awaited<ReturnType<typeof startTexasProtectedApi>>;

  before(async () => {
    nock.restore();
    sidecar = await startTexasServer();
    api = await startTexasProtectedApi(sidecar);
  });
  after(async () => {
    await api.close();
    await sidecar.close();
    nock.activate();
  });

  const env = () => ({ NAIS_TOKEN_ENDPOINT: sidecar.tokenEndpoint, API_URL: api.url, SCOPE });

  it('fetch.ts: two requests the API accepts on one token request; another origin gets no token (401)', async () => {
    const before = sidecar.requests.length;
    const { code, stdout, stderr } = await runExample('fetch.ts', env());
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(stdout.trim().split('\n')).to.deep.equal([
      `GET /things #1: 200 {"path":"/things","sub":"app","aud":"${AUDIENCE}"}`,
      `GET /things #2: 200 {"path":"/things","sub":"app","aud":"${AUDIENCE}"}`,
      "GET another origin's /things: 401",
    ]);
    expect(sidecar.requests.slice(before).map((r) => r.path)).to.deep.equal(['/api/v1/token']);
  });

  it('sdk-token-provider.ts: the SDK-shaped client gets a token the API accepts, from one token request', async () => {
    const before = sidecar.requests.length;
    const { code, stdout, stderr } = await runExample('sdk-token-provider.ts', env());
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(stdout.trim().split('\n')).to.deep.equal([
      `SDK GET /things #1: 200 {"path":"/things","sub":"app","aud":"${AUDIENCE}"}`,
      `SDK GET /things #2: 200 {"path":"/things","sub":"app","aud":"${AUDIENCE}"}`,
    ]);
    expect(sidecar.requests.slice(before).map((r) => r.path)).to.deep.equal(['/api/v1/token']);
  });
});
