import axios from 'axios';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import nock from 'nock';
import { attachToken, clientCredentials, TokenError } from '../../lib/index.js';
import { startOidcServer, type OidcServer } from '../support/oidc-server.js';
import { startJwtApi } from '../support/protected-api.js';

// End to end through the public entry point: clientCredentials() + attachToken() against panva's
// oidc-provider configured as Entra ID (spec/support/oidc-server.ts), calling an Express API that
// verifies the JWTs with jose (issuer, audience, signature, expiry). Real HTTP on loopback only.

const RESOURCE = 'api://dev-gcp.team.api';
const SCOPE = `${RESOURCE}/.default`;
const HERD_RESOURCES = [1, 2, 3, 4].map((n) => `api://dev-gcp.team.herd-${n}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(TokenError);
  return error as TokenError;
}

describe('clientCredentials() + attachToken() end to end (oidc-provider as Entra ID, jose-verifying API)', function () {
  let as: OidcServer;
  let api: Awaited<ReturnType<typeof startJwtApi>>;

  before(async () => {
    // nock may be active from unit specs; these tests need real loopback connections.
    nock.restore();
    as = await startOidcServer({ resources: [RESOURCE, ...HERD_RESOURCES] });
    api = await startJwtApi({ issuer: as.issuer, jwksUri: as.jwksUri, audience: [RESOURCE, ...HERD_RESOURCES], echoClaims: ['sub', 'aud', 'azp'] });
  });
  after(async () => {
    await api?.close();
    await as?.close();
    nock.activate();
  });

  const secretSource = (options: { clientSecret?: string } = {}) =>
    clientCredentials({ tokenEndpoint: as.tokenEndpoint, clientId: as.clientId, clientSecret: as.clientSecret, retries: 0, ...options });

  it('reaches the API with a token for the scope (audience = the resource, subject = the client)', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: secretSource(), scope: SCOPE });
    const before = as.tokenRequests;
    const { status, data } = await instance.get<unknown>('/things');
    expect(status).to.equal(200);
    expect(data).to.deep.include({ sub: as.clientId, aud: RESOURCE, azp: as.clientId });
    expect(as.tokenRequests - before).to.equal(1);
  });

  it('turns a wrong client secret into TokenError invalid_client with status 401, without the secret', async () => {
    const error = await rejection(secretSource({ clientSecret: 'wrong-secret-value' }).getToken(SCOPE));
    expect(error).to.include({ code: 'invalid_client', status: 401 });
    expect(`${error.message} ${JSON.stringify(error)}`).to.not.include('wrong-secret-value');
  });

  it("turns a scope of an unknown resource into the server's OAuth error: invalid_target, status 400", async () => {
    // oidc-provider answers unknown resources with RFC 8707's invalid_target (Entra ID: invalid_resource).
    const error = await rejection(secretSource().getToken('api://dev-gcp.team.unknown/.default'));
    expect(error).to.include({ code: 'invalid_target', status: 400 });
  });

  it('authenticates with private_key_jwt, signing a new assertion for every token request', async () => {
    const source = clientCredentials({ tokenEndpoint: as.tokenEndpoint, ...as.jwtClient, retries: 0 });
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source, scope: SCOPE });
    const before = as.tokenRequests;
    const first = await instance.get('/things');
    expect(first.data).to.deep.include({ sub: as.jwtClient.clientId, aud: RESOURCE });
    // oidc-provider refuses a replayed assertion (same jti), so a second token proves a new assertion.
    const second = await source.getToken(SCOPE, { forceRefresh: true });
    expect(as.tokenRequests - before).to.equal(2);
    expect(second.token).to.not.equal(api.seen.at(-1)!.token);
    expect(decodeJwt(second.token)).to.include({ sub: as.jwtClient.clientId, aud: RESOURCE });
  });

  it('fetches a new token once a 2 s token has expired, and never sends the expired one', async () => {
    as.setTokenLifetime(2);
    try {
      const instance = axios.create({ baseURL: api.url });
      attachToken(instance, { source: secretSource(), scope: SCOPE });
      const before = as.tokenRequests;
      await instance.get('/short');
      const first = api.seen.at(-1)!.token!;
      expect(decodeJwt(first).exp! - decodeJwt(first).iat!).to.equal(2);
      await sleep(2_500); // real time: the API's jose check rejects an expired token
      const response = await instance.get('/short');
      expect(response.status).to.equal(200);
      const shorts = api.seen.filter((s) => s.path === '/short');
      expect(shorts.map((s) => s.status)).to.deep.equal([200, 200]); // a 401 would mean an expired token was sent
      expect(shorts[1]!.token).to.not.equal(first);
      expect(as.tokenRequests - before).to.equal(2);
    } finally {
      as.setTokenLifetime(3600);
    }
  });

  it('answers a revoked token with exactly one 401, one new token and one retry that succeeds', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: secretSource(), scope: SCOPE });
    await instance.get('/warm');
    const revoked = api.seen.at(-1)!.token!;
    api.revoke(revoked);
    const before = as.tokenRequests;
    const seenBefore = api.seen.length;
    expect((await instance.get('/revoked')).status).to.equal(200);
    const after = api.seen.slice(seenBefore);
    expect(after.map((s) => s.status)).to.deep.equal([401, 200]);
    expect(after[0]!.token).to.equal(revoked);
    expect(after[1]!.token).to.not.equal(revoked);
    expect(as.tokenRequests - before).to.equal(1);
  });

  it('makes exactly 4 token requests for 200 concurrent API calls over 4 scopes on a cold cache', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: secretSource() });
    const before = as.tokenRequests;
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => instance.get<{ aud: string }>('/herd', { token: { scope: `${HERD_RESOURCES[i % 4]}/.default` } })),
    );
    expect(responses.map((r) => r.data.aud)).to.deep.equal(Array.from({ length: 200 }, (_, i) => HERD_RESOURCES[i % 4]));
    expect(as.tokenRequests - before).to.equal(4);
  });
});
