import axios from 'axios';
import { expect } from 'chai';
import nock from 'nock';
import { TokenError } from '../../lib/errors.js';
import { attachToken } from '../../lib/interceptor/attach-token.js';
import { clientCredentials } from '../../lib/sources/client-credentials.js';
import { startAuthorizationServer } from '../support/authorization-server.js';
import { startJwtApi } from '../support/protected-api.js';

// clientCredentials() against a real authorization server (panva's oidc-provider, configured as
// Entra ID behaves) and an API that verifies its JWTs with jose, end to end through attachToken.

const SCOPE = 'api://dev-gcp.team.api/.default';
const SCOPES = [1, 2, 3, 4].map((n) => `api://dev-gcp.team.api-${n}/.default`);

describe('clientCredentials() against oidc-provider, to an API verifying JWTs with jose', function () {
  this.timeout(30_000);
  let as: Awaited<ReturnType<typeof startAuthorizationServer>>;
  let api: Awaited<ReturnType<typeof startJwtApi>>;

  before(async () => {
    nock.restore();
    as = await startAuthorizationServer({ resources: [SCOPE, ...SCOPES] });
    api = await startJwtApi({ issuer: as.issuer, jwksUri: as.jwksUri, audience: [SCOPE, ...SCOPES].map((s) => s.replace(/\/\.default$/, '')) });
  });
  after(async () => {
    await api.close();
    await as.close();
    nock.activate();
  });

  const secretSource = (options = {}) => clientCredentials({ tokenEndpoint: as.tokenEndpoint, ...as.secretClient, retries: 0, ...options });

  it('gets a JWT whose audience is the scope, and the API accepts it', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: secretSource(), scope: SCOPE });
    const { data } = await instance.get('/things');
    expect(data).to.deep.include({ sub: 'secret-client', aud: 'api://dev-gcp.team.api' });
  });

  it('turns a wrong secret into TokenError invalid_client (401)', async () => {
    const error = (await secretSource({ clientSecret: 'wrong-secret' }).getToken(SCOPE).catch((e: unknown) => e)) as TokenError;
    expect(error).to.be.instanceOf(TokenError);
    expect(error).to.include({ code: 'invalid_client', status: 401 });
    expect(JSON.stringify(error)).to.not.include('wrong-secret');
  });

  it("turns an unknown scope into the server's OAuth error (invalid_target, 400)", async () => {
    const error = (await secretSource().getToken('api://unknown.app/.default').catch((e: unknown) => e)) as TokenError;
    expect(error).to.include({ code: 'invalid_target', status: 400 });
  });

  it('authenticates with private_key_jwt, a new assertion per token request', async () => {
    const source = clientCredentials({ tokenEndpoint: as.tokenEndpoint, ...as.jwtClient, retries: 0 });
    const first = await source.getToken(SCOPE);
    const second = await source.getToken(SCOPE, { forceRefresh: true }); // oidc-provider refuses a replayed jti
    expect(second.token).to.not.equal(first.token);
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source, scope: SCOPE });
    expect((await instance.get('/things')).data).to.include({ sub: 'jwt-client' });
  });

  it('fetches a new token after a short one expires, and never sends an expired one', async () => {
    as.setTokenLifetime(2);
    try {
      const instance = axios.create({ baseURL: api.url });
      attachToken(instance, { source: secretSource(), scope: SCOPE });
      await instance.get('/short');
      const first = api.seen.at(-1)!.token;
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const response = await instance.get('/short');
      expect(response.status).to.equal(200);
      const shorts = api.seen.filter((s) => s.path === '/short');
      expect(shorts.map((s) => s.status)).to.deep.equal([200, 200]); // no 401 for an expired token
      expect(shorts[1]!.token).to.not.equal(first);
    } finally {
      as.setTokenLifetime(3600);
    }
  });

  it('answers a revoked token with one 401, one new token, one retry', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: secretSource(), scope: SCOPE });
    await instance.get('/warm');
    api.revoke(api.seen.at(-1)!.token!);
    const before = as.tokenRequests;
    const seenBefore = api.seen.length;
    expect((await instance.get('/things')).status).to.equal(200);
    expect(api.seen.slice(seenBefore).map((s) => s.status)).to.deep.equal([401, 200]);
    expect(as.tokenRequests - before).to.equal(1);
  });

  it('makes 4 token requests for 200 concurrent requests over 4 scopes on a cold cache', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: secretSource() });
    const before = as.tokenRequests;
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => instance.get('/herd', { token: { scope: SCOPES[i % 4] } })));
    expect(responses.every((r) => r.status === 200)).to.equal(true);
    expect(as.tokenRequests - before).to.equal(4);
  });
});
