import { expect } from 'chai';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import express from 'express';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { captureUserToken } from '../../../lib/context/express.js';
import { withUserToken } from '../../../lib/context/user-token.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import { isTokenError, type TokenError } from '../../../lib/errors.js';
import { startExchangeWorld, type ExchangeWorld } from '../../support/exchange-world.js';

// End to end through loopback servers: the package's Texas-faithful server, whose exchange verifies
// the user token and issues tokens carrying the user's `sub`, and an API that verifies them
// (support/exchange-world.ts).

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const USERS = 40;
const REQUESTS_PER_USER = 10;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('onBehalfOf() through one Express app and one axios instance (integration)', function () {
  this.timeout(120_000); // 400 requests that sign and verify ES256 JWTs: about 9 s alone on a busy 2-core machine
  let servers: ExchangeWorld;
  let app: Server;
  let appUrl: string;

  before(async () => {
    servers = await startExchangeWorld();
    // Start-up: ONE axios instance, attached ONCE, shared by every request of every user.
    const otherApi = axios.create({ baseURL: servers.apiUrl });
    attachToken(otherApi, { source: onBehalfOf({ endpoint: servers.texasExchangeEndpoint }), scope: SCOPE });
    const web = express();
    web.use(captureUserToken());
    web.get('/profile', async (req, res) => {
      // Waits of different lengths before and between the calls, so that requests interleave.
      await pause(Math.random() * 10);
      const requestId = String(req.headers['x-request-id']);
      const first = await otherApi.get<{ sub: string }>('/whoami', { headers: { 'x-request-id': `${requestId}/1` } });
      await pause(Math.random() * 10);
      const second = await otherApi.get<{ sub: string }>('/whoami', { headers: { 'x-request-id': `${requestId}/2` } });
      res.json({ first: first.data.sub, second: second.data.sub });
    });
    web.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(isTokenError(error) ? 401 : 500).json(isTokenError(error) ? { code: error.code, status: error.status } : { error: String(error) });
    });
    app = web.listen(0, '127.0.0.1');
    await once(app, 'listening');
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });

  after(async () => {
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
    await servers.close();
  });

  beforeEach(() => {
    servers.reset();
  });

  it(`gives each of ${USERS * REQUESTS_PER_USER} interleaved concurrent requests from ${USERS} users a token for its own user, and only that`, async () => {
    const users = await Promise.all(Array.from({ length: USERS }, async (_, i) => ({ sub: `user-${i}`, token: await servers.mintUserToken(`user-${i}`) })));
    // Round-robin order: consecutive requests always belong to different users.
    const requests = Array.from({ length: USERS * REQUESTS_PER_USER }, (_, n) => ({ id: `r${n}`, user: users[n % USERS]! }));
    const answers = await Promise.all(
      requests.map(async ({ id, user }) => {
        const response = await fetch(`${appUrl}/profile`, { headers: { authorization: `Bearer ${user.token}`, 'x-request-id': id } });
        return { id, status: response.status, body: (await response.json()) as { first: string; second: string } };
      }),
    );

    // The API's own record: for every call it verified, the subject of the token it received.
    const subByCall = new Map(servers.apiSeen.map((seen) => [seen.requestId, seen.sub]));
    expect(servers.apiSeen).to.have.length(requests.length * 2);
    const mismatches = requests.flatMap(({ id, user }) =>
      [`${id}/1`, `${id}/2`].filter((call) => subByCall.get(call) !== user.sub).map((call) => `${call}: ${user.sub} got ${subByCall.get(call)}`),
    );
    expect(mismatches).to.deep.equal([]);
    // The audience is the scope's resource, without `/.default`, as Entra ID issues it.
    expect(new Set(servers.apiSeen.map((s) => s.aud))).to.deep.equal(new Set([SCOPE.replace(/\/\.default$/, '')]));
    // And what each request got back agrees.
    for (const [n, answer] of answers.entries()) {
      expect(answer, answer.id).to.deep.equal({ id: answer.id, status: 200, body: { first: requests[n]!.user.sub, second: requests[n]!.user.sub } });
    }
    // One exchange per user: concurrent requests of a user shared it, no user got another's.
    expect(servers.exchanges).to.have.length(USERS);
    expect(new Set(servers.exchanges.map((e) => e.user_token))).to.deep.equal(new Set(users.map((u) => u.token)));
  });

  it('sends the user token without the Bearer prefix, whichever way it was given', async () => {
    const token = await servers.mintUserToken('prefix-user');
    const source = onBehalfOf({ endpoint: servers.texasExchangeEndpoint });
    // Texas does not strip the prefix; it would refuse "Bearer ey…" as invalid_grant.
    await withUserToken(`Bearer ${token}`, () => source.getToken(SCOPE));
    expect(servers.exchanges.map((e) => e.user_token)).to.deep.equal([token]);
  });

  it("answers the API's 401 with one exchange with skip_cache: true for that same user, and a retry", async () => {
    const token = await servers.mintUserToken('refused-user');
    servers.refuseFirstTokenOf.add('refused-user');
    const response = await fetch(`${appUrl}/profile`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'retry' } });
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ first: 'refused-user', second: 'refused-user' });
    expect(servers.exchanges.map((e) => ({ user: e.user_token === token, skip: e.skip_cache ?? false }))).to.deep.equal([
      { user: true, skip: false },
      { user: true, skip: true },
    ]);
    // The refused token and the fresh one differ: Texas dropped its cached entry.
    expect(servers.apiSeen.map((s) => s.requestId)).to.deep.equal(['retry/1', 'retry/2']);
  });

  it('fails a request without a user token with no_user_token, and exchanges nothing', async () => {
    const response = await fetch(`${appUrl}/profile`);
    expect(response.status).to.equal(401);
    expect(await response.json()).to.deep.equal({ code: 'no_user_token' });
    expect(servers.exchanges).to.deep.equal([]);
    expect(servers.apiSeen).to.deep.equal([]);
  });

  it("surfaces Texas's passthrough error for an expired user token as a TokenError with status 400 and code invalid_grant", async () => {
    const expired = await servers.mintUserToken('late-user', { expiresIn: -3_600_000 });
    const response = await fetch(`${appUrl}/profile`, { headers: { authorization: `Bearer ${expired}` } });
    expect(await response.json()).to.deep.equal({ code: 'invalid_grant', status: 400 });

    const error = await withUserToken(expired, () => onBehalfOf({ endpoint: servers.texasExchangeEndpoint }).getToken(SCOPE)).then(
      () => expect.fail('resolved'),
      (e: unknown) => e as TokenError,
    );
    expect(error).to.include({ code: 'invalid_grant', status: 400, scope: SCOPE, endpoint: servers.texasExchangeEndpoint });
    expect(error.message).to.include('400 invalid_grant: AADSTS500133: Assertion is not within its valid time range.');
  });
});
