import axios from 'axios';
import { expect } from 'chai';
import nock from 'nock';
import { attachToken } from '../../lib/interceptor/attach-token.js';
import { clientCredentials } from '../../lib/sources/client-credentials.js';
import { startOidcServer, type OidcServer } from '../support/oidc-server.js';
import { startJwtApi } from '../support/protected-api.js';

// expires_in is whole seconds counted from a second the server rounded down (oidc-provider, like
// Entra ID, sets exp = floor(now) + lifetime), so a token can die up to 1 s before expires_in says.
// With real 2 s tokens, a token issued late in a second is the worst case.

const SCOPE = 'api://dev-gcp.team.api/.default';

describe('short real tokens from oidc-provider', function () {
  this.timeout(20_000);
  let as: OidcServer;
  let api: Awaited<ReturnType<typeof startJwtApi>>;
  before(async () => {
    nock.restore();
    as = await startOidcServer({ resources: [SCOPE], tokenLifetime: 2 });
    api = await startJwtApi({ issuer: as.issuer, jwksUri: as.jwksUri, audience: 'api://dev-gcp.team.api' });
  });
  after(async () => {
    await api.close();
    await as.close();
    nock.activate();
  });

  it('never sends a token past its exp, even one issued just before a second boundary', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, {
      source: clientCredentials({ tokenEndpoint: as.tokenEndpoint, clientId: as.clientId, clientSecret: as.clientSecret, retries: 0 }),
      scope: SCOPE,
    });
    while (Date.now() % 1000 < 850) await new Promise((resolve) => setTimeout(resolve, 10));
    const end = Date.now() + 3_000;
    while (Date.now() < end) {
      await instance.get('/short');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const seen = api.seen.filter((s) => s.path === '/short');
    expect(new Set(seen.map((s) => s.token)).size).to.be.greaterThan(1); // tokens were replaced
    expect(seen.filter((s) => s.status === 401)).to.deep.equal([]); // none was sent expired
  });
});
