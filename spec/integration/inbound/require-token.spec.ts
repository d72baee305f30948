import axios from 'axios';
import { expect } from 'chai';
import express from 'express';
import Koa from 'koa';
import nock from 'nock';
import { once } from 'node:events';
import diagnostics_channel from 'node:diagnostics_channel';
import type { ClientRequest, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { currentUserToken } from '../../../lib/context/user-token.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { hasRole } from '../../../lib/inbound/authorize.js';
import { introspection, type TokenValidator } from '../../../lib/inbound/introspection.js';
import { requireToken, requireTokenKoa, type RequireTokenOptions } from '../../../lib/inbound/require-token.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { startProtectedApi } from '../../support/protected-api.js';
import { startScriptedTexas } from '../../support/scripted-texas.js';

// requireToken() in a real Express 5 app and requireTokenKoa() in a real Koa 3 app, against the
// Texas-faithful server (introspection, exchange) and a downstream API that checks the exchanged
// tokens. No error handler of our own: the frameworks' default handlers must answer right.

const DOWNSTREAM_SCOPE = 'api://dev-gcp.team.downstream/.default';

interface App {
  url: string;
  /** Holds the next `size` requests in front of the guard until the last of them has arrived. */
  hold(size: number): void;
  close(): Promise<void>;
}

/**
 * In front of the guard: once armed with `hold(size)`, holds requests until `size` have arrived,
 * then lets them all on in one go. They reach the validator in the same turn of the event loop,
 * before any timer can fire, so what they share (one introspection, one deadline) does not depend
 * on how fast the client's requests arrive.
 */
class Gate {
  #size = 0;
  #held: (() => void)[] = [];
  hold(size: number): void {
    this.#size = size;
  }
  pass(): Promise<void> {
    if (this.#size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#held.push(resolve);
      if (this.#held.length < this.#size) return;
      const held = this.#held;
      this.#held = [];
      this.#size = 0;
      for (const open of held) open();
    });
  }
}

async function listen(server: Server): Promise<string> {
  if (!server.listening) await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server) {
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** What every route answers: who the caller is, as the app sees it. */
type Routes = { downstreamUrl: string; exchangeEndpoint: string };

async function startExpress(options: RequireTokenOptions<express.Request>, routes: Routes): Promise<App> {
  const otherApi = axios.create({ baseURL: routes.downstreamUrl });
  attachToken(otherApi, { source: onBehalfOf({ endpoint: routes.exchangeEndpoint }), scope: DOWNSTREAM_SCOPE });
  const app = express();
  app.set('env', 'test'); // its default handler still answers; only its console log is off
  const gate = new Gate();
  app.use((_req, _res, next) => void gate.pass().then(() => next()));
  app.use('/api', requireToken(options));
  app.use('/admin', requireToken({ ...options, authorize: hasRole('admin') }));
  app.use('/async', requireToken<express.Request>({ ...options, authorize: async (claims, req) => claims.sub !== 'mallory' && req.path === '/me' }));
  const me = (req: express.Request, res: express.Response) => {
    res.json({ sub: req.auth?.claims.sub, identityProvider: req.auth?.identityProvider, inContext: currentUserToken() !== undefined });
  };
  app.get(['/api/me', '/admin/me', '/async/me'], me);
  app.get('/api/downstream', async (req, res) => {
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 5)); // interleave
    const { data } = await otherApi.get<{ sub: string }>('/whoami', { headers: { 'x-request-id': String(req.headers['x-request-id']) } });
    res.json({ me: req.auth?.claims.sub, downstream: data.sub });
  });
  const server = app.listen(0, '127.0.0.1');
  return { url: await listen(server), hold: (size) => gate.hold(size), close: closer(server) };
}

async function startKoa(options: RequireTokenOptions<Koa.Context>, routes: Routes): Promise<App> {
  const otherApi = axios.create({ baseURL: routes.downstreamUrl });
  attachToken(otherApi, { source: onBehalfOf({ endpoint: routes.exchangeEndpoint }), scope: DOWNSTREAM_SCOPE });
  const app = new Koa();
  app.silent = true; // its default handler still answers; only its console log is off
  const plain = requireTokenKoa(options);
  const admin = requireTokenKoa({ ...options, authorize: hasRole('admin') });
  const asynchronous = requireTokenKoa<Koa.Context>({ ...options, authorize: async (claims, ctx) => claims.sub !== 'mallory' && ctx.path === '/async/me' });
  const gate = new Gate();
  app.use(async (ctx, next) => {
    await gate.pass();
    const guard = ctx.path.startsWith('/admin') ? admin : ctx.path.startsWith('/async') ? asynchronous : plain;
    return guard(ctx, next);
  });
  app.use(async (ctx) => {
    const auth = ctx.state.auth as { claims: { sub?: string }; identityProvider: string } | undefined;
    if (ctx.path === '/api/downstream') {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      const { data } = await otherApi.get<{ sub: string }>('/whoami', { headers: { 'x-request-id': String(ctx.headers['x-request-id']) } });
      ctx.body = { me: auth?.claims.sub, downstream: data.sub };
      return;
    }
    ctx.body = { sub: auth?.claims.sub, identityProvider: auth?.identityProvider, inContext: currentUserToken() !== undefined };
  });
  const server = app.listen(0, '127.0.0.1');
  return { url: await listen(server), hold: (size) => gate.hold(size), close: closer(server) };
}

const frameworks = [
  ['Express 5: requireToken()', startExpress],
  ['Koa 3: requireTokenKoa()', startKoa],
] as const;

/**
 * Requests this process sends to `endpoint`'s host, counted as the client creates them: a request
 * that a deadline cuts before the server has read it counts too, however loaded the machine.
 */
function requestsTo(endpoint: string) {
  const { host } = new URL(endpoint);
  let count = 0;
  const onStart = (message: unknown) => {
    if ((message as { request: ClientRequest }).request.getHeader('host') === host) count += 1;
  };
  diagnostics_channel.subscribe('http.client.request.start', onStart);
  return {
    get count() {
      return count;
    },
    stop: () => diagnostics_channel.unsubscribe('http.client.request.start', onStart),
  };
}

async function get(url: string, authorization?: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers: { ...(authorization !== undefined && { authorization }), ...headers } });
  const text = await response.text();
  return { status: response.status, text, headers: response.headers };
}

describe('requireToken() and requireTokenKoa() (integration, Texas-faithful server)', function () {
  this.timeout(60_000);
  let texas: TexasServer;
  let downstream: Awaited<ReturnType<typeof startProtectedApi>>;

  before(async () => {
    nock.restore();
    texas = await startTexasServer();
    downstream = await startProtectedApi((token) => texas.verify(token));
  });
  after(async () => {
    await downstream.close();
    await texas.close();
    nock.activate();
  });

  const introspections = () => texas.requests.filter((r) => r.path === '/api/v1/introspect').length;
  const routes = () => ({ downstreamUrl: downstream.url, exchangeEndpoint: texas.exchangeEndpoint });

  for (const [name, start] of frameworks) {
    describe(name, () => {
      let app: App;
      let validator: TokenValidator;
      before(async () => {
        // Refusals kept as long as allowed (the default is 5 s): 1,000 requests on a loaded
        // machine can take longer than that, and the refusal must still be there after them.
        validator = introspection({ endpoint: texas.introspectionEndpoint, inactiveTtl: 60_000 });
        app = await start({ introspection: validator }, routes());
      });
      after(() => app.close());
      beforeEach(() => validator.clear());

      it('lets a valid token through with req.auth / ctx.state.auth, inside the user-token context', async () => {
        const token = await texas.mintUserToken('alice');
        for (const authorization of [`Bearer ${token}`, `bearer ${token}`, `BEARER  ${token}`]) {
          const answer = await get(`${app.url}/api/me`, authorization);
          expect(answer.status, authorization.slice(0, 8)).to.equal(200);
          expect(JSON.parse(answer.text)).to.deep.equal({ sub: 'alice', identityProvider: 'entra_id', inContext: true });
        }
      });

      const refusals: [string, () => Promise<string | undefined>, number, string | null][] = [
        ['no Authorization header', async () => undefined, 401, 'Bearer'],
        ['another scheme (Basic)', async () => 'Basic YWxpY2U6c2VjcmV0', 401, 'Bearer'],
        ['Bearer without a token', async () => 'Bearer ', 401, 'Bearer'],
        ['a token with a space in it', async () => 'Bearer abc def', 401, 'Bearer'],
        ['an expired token', async () => `Bearer ${await texas.mintUserToken('late', { expiresIn: -120_000 })}`, 401, 'Bearer error="invalid_token"'],
        ["another app's token", async () => `Bearer ${await texas.mintUserToken('u', { audience: 'api://dev-gcp.team.other' })}`, 401, 'Bearer error="invalid_token"'],
        ["another provider's token", async () => `Bearer ${await texas.mintUserToken('u', { identityProvider: 'tokenx' })}`, 401, 'Bearer error="invalid_token"'],
        ['a token that is not a JWT', async () => 'Bearer not-a-jwt', 401, 'Bearer error="invalid_token"'],
      ];
      for (const [what, authorization, status, challenge] of refusals) {
        it(`answers ${what} with ${status} and WWW-Authenticate: ${challenge}, through the default error handler`, async () => {
          const header = await authorization();
          const answer = await get(`${app.url}/api/me`, header);
          expect(answer.status).to.equal(status);
          expect(answer.headers.get('www-authenticate')).to.equal(challenge);
          const token = header?.split(' ').at(-1);
          if (token && token.length > 10) expect(answer.text).to.not.include(token);
        });
      }

      it('answers 403 insufficient_scope when authorize says no (sync and async), and 200 when it says yes', async () => {
        const reader = await texas.mintUserToken('reader', { claims: { roles: ['reader'] } });
        const admin = await texas.mintUserToken('root', { claims: { roles: ['reader', 'admin'] } });
        const mallory = await texas.mintUserToken('mallory');
        const refused = await get(`${app.url}/admin/me`, `Bearer ${reader}`);
        expect(refused.status).to.equal(403);
        expect(refused.headers.get('www-authenticate')).to.equal('Bearer error="insufficient_scope"');
        expect((await get(`${app.url}/admin/me`, `Bearer ${admin}`)).status).to.equal(200);
        expect((await get(`${app.url}/async/me`, `Bearer ${mallory}`)).status).to.equal(403);
        expect((await get(`${app.url}/async/me`, `Bearer ${reader}`)).status).to.equal(200);
      });

      it('calls the downstream API on behalf of the caller: it sees the exchanged token for that user', async () => {
        const token = await texas.mintUserToken('bob');
        const answer = await get(`${app.url}/api/downstream`, `Bearer ${token}`, { 'x-request-id': 'bob-1' });
        expect(answer.status).to.equal(200);
        expect(JSON.parse(answer.text)).to.deep.equal({ me: 'bob', downstream: 'bob' });
        const seen = downstream.seen.at(-1)!;
        expect(seen).to.include({ status: 200, sub: 'bob', aud: 'api://dev-gcp.team.downstream' });
        expect(seen.token).to.not.equal(token); // exchanged, not passed on
      });

      it('keeps 400 interleaved requests of 40 users apart, and introspects each token once', async () => {
        const users = await Promise.all(Array.from({ length: 40 }, async (_, i) => ({ sub: `user-${i}`, token: await texas.mintUserToken(`user-${i}`) })));
        const before = introspections();
        const requests = users.flatMap((user) => Array.from({ length: 10 }, (_, n) => ({ user, id: `${user.sub}/${n}` })));
        requests.sort(() => Math.random() - 0.5);
        const answers = await Promise.all(
          requests.map(({ user, id }) => get(`${app.url}/api/downstream`, `Bearer ${user.token}`, { 'x-request-id': id }).then((a) => ({ a, user }))),
        );
        for (const { a, user } of answers) {
          expect(a.status).to.equal(200);
          expect(JSON.parse(a.text)).to.deep.equal({ me: user.sub, downstream: user.sub });
        }
        expect(introspections() - before).to.equal(40);
      });

      it('makes 1 introspection request for 1,000 concurrent requests with one valid token', async () => {
        const token = await texas.mintUserToken('flood');
        const before = introspections();
        const answers = await Promise.all(Array.from({ length: 1000 }, () => get(`${app.url}/api/me`, `Bearer ${token}`)));
        expect(answers.every((a) => a.status === 200)).to.equal(true);
        expect(introspections() - before).to.equal(1);
      });

      it('makes 1 introspection request for 1,000 concurrent requests with one inactive token, and keeps the refusal', async () => {
        // Revoked rather than expired: a token an hour past exp is refused before Texas is asked.
        const token = await texas.mintUserToken('revoked-flood');
        texas.revoke(token);
        const before = introspections();
        app.hold(1000); // all 1,000 reach the validator together: one request to Texas, shared
        const answers = await Promise.all(Array.from({ length: 1000 }, () => get(`${app.url}/api/me`, `Bearer ${token}`)));
        expect(answers.every((a) => a.status === 401)).to.equal(true);
        expect(introspections() - before, 'one introspection, shared by the 1,000').to.equal(1);
        expect((await get(`${app.url}/api/me`, `Bearer ${token}`)).status).to.equal(401);
        expect(introspections() - before, 'the refusal answered from memory').to.equal(1);
      });
    });
  }

  for (const [name, start] of frameworks) {
    describe(`${name} when Texas cannot answer`, () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      before(() => process.on('unhandledRejection', onUnhandled));
      after(() => process.off('unhandledRejection', onUnhandled));

      it('answers every one of 1,000 requests 503 with Retry-After at the deadline (Texas hangs), never 401', async () => {
        const hanging = await startScriptedTexas(() => 'hang');
        const app = await start({ endpoint: hanging.endpoint, timeout: 300, retryAfter: 7_000 }, routes());
        const sent = requestsTo(hanging.endpoint);
        try {
          const token = await texas.mintUserToken('patient');
          app.hold(1000); // all 1,000 reach the validator together, before its deadline can fire
          const answers = await Promise.all(Array.from({ length: 1000 }, () => get(`${app.url}/api/me`, `Bearer ${token}`)));
          expect(answers.every((a) => a.status === 503)).to.equal(true);
          expect(new Set(answers.map((a) => a.headers.get('retry-after')))).to.deep.equal(new Set(['7']));
          expect(answers.some((a) => a.text.includes(token))).to.equal(false);
          expect(sent.count, 'the 1,000 waited on one introspection, and its deadline ended them all').to.equal(1);
          // A failure is not kept: the next request asks Texas again, and gets its answer.
          hanging.script(() => ({ status: 200, body: { active: false, error: 'token is not active' } }));
          expect((await get(`${app.url}/api/me`, `Bearer ${token}`)).status).to.equal(401);
          expect(sent.count).to.equal(2);
          await new Promise((resolve) => setImmediate(resolve));
          expect(unhandled).to.deep.equal([]);
        } finally {
          sent.stop();
          await app.close();
          await hanging.close();
        }
      });

      it('answers 503 when Texas refuses connections (after its retries) and on a 500, with no unhandled rejection', async () => {
        const down = await startScriptedTexas(() => ({ status: 500, body: { error: 'server_error', error_description: 'Upstream request failed' } }));
        const app = await start({ endpoint: down.endpoint, retries: 1 }, routes());
        const closed = await startScriptedTexas(() => 'hang');
        await closed.close();
        const refusedApp = await start({ endpoint: closed.endpoint, retries: 1 }, routes());
        try {
          const token = await texas.mintUserToken('unlucky');
          for (const url of [app.url, refusedApp.url]) {
            const answers = await Promise.all(Array.from({ length: 50 }, () => get(`${url}/api/me`, `Bearer ${token}`)));
            expect(answers.map((a) => a.status)).to.deep.equal(Array(50).fill(503));
            expect(answers[0]!.headers.get('retry-after')).to.equal('5');
            expect(answers[0]!.headers.get('www-authenticate')).to.equal(null);
          }
          await new Promise((resolve) => setImmediate(resolve));
          expect(unhandled).to.deep.equal([]);
        } finally {
          await app.close();
          await refusedApp.close();
          await down.close();
        }
      });
    });
  }
});
