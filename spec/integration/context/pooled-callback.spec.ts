import { expect } from 'chai';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import axios, { type AxiosInstance } from 'axios';
import express from 'express';
import Koa from 'koa';
import { captureUserToken } from '../../../lib/context/express.js';
import { captureUserTokenKoa } from '../../../lib/context/koa.js';
import { isTokenError } from '../../../lib/errors.js';
import { requireToken } from '../../../lib/inbound/require-token.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import type { TexasServer } from '../../../lib/testing/texas-server.js';
import { startTexasProtectedApi } from '../../support/protected-api.js';
import { useTexasServer } from '../../support/testing-server.js';

// A callback-style client whose connection the first request opens lazily (`client ??= connect();
// client.query(sql, cb)`, as older mysql, redis v3 and generic-pool do): the socket is an async
// resource created inside that request's context, so every later callback it fires, on behalf of
// whichever request queued it, runs in the opener's context. Before user contexts ended with their
// request, user B opened the connection and user A's next request, exchanging inside the query
// callback, was given B's token, and A got B's data from the API downstream.

const SCOPE = 'api://dev-gcp.team.downstream/.default';

/** A line-based "database" on loopback: each line is a query, answered with one line. */
async function startDatabase(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        socket.write(`row for ${buffered.slice(0, end)}\n`);
        buffered = buffered.slice(end + 1);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The client, as the callback-style libraries are: one connection, opened by the first query. */
class CallbackDatabase {
  #socket: Socket | undefined;
  readonly #waiting: ((error: Error | null, row?: string) => void)[] = [];
  constructor(readonly port: number) {}
  query(sql: string, callback: (error: Error | null, row?: string) => void): void {
    this.#socket ??= this.#connect();
    this.#waiting.push(callback);
    this.#socket.write(`${sql}\n`);
  }
  #connect(): Socket {
    const socket = connect(this.port, '127.0.0.1');
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\n'); end !== -1; end = buffered.indexOf('\n')) {
        this.#waiting.shift()?.(null, buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
      }
    });
    return socket;
  }
  close(): void {
    this.#socket?.destroy();
  }
}

/** What the app answers: whose data the API downstream gave it, or the exchange's error. */
interface Answer {
  status: number;
  body: { sub?: unknown; code?: string; message?: string };
}

describe('a user context carried into another request by a pooled callback client', function () {
  this.timeout(20_000);
  let texas: TexasServer;
  useTexasServer((started) => (texas = started));
  let database: Awaited<ReturnType<typeof startDatabase>>;
  let downstream: Awaited<ReturnType<typeof startTexasProtectedApi>>;
  let db: CallbackDatabase;
  let api: AxiosInstance;
  let app: Server;
  let alice: string;
  let bob: string;

  before(async () => {
    database = await startDatabase();
    downstream = await startTexasProtectedApi(texas);
    alice = await texas.mintUserToken('alice');
    bob = await texas.mintUserToken('bob');
  });
  after(async () => {
    await downstream.close();
    await database.close();
  });
  beforeEach(() => {
    db = new CallbackDatabase(database.port); // connected by the first request of each test
    api = axios.create({ baseURL: downstream.url });
    attachToken(api, { source: onBehalfOf({ endpoint: texas.exchangeEndpoint }), scope: SCOPE });
  });
  afterEach(async () => {
    db.close();
    app.closeAllConnections();
    await new Promise((resolve) => app.close(resolve));
  });

  /** The route: a query, and inside its callback the call to the API on behalf of the user. */
  function profile(user: string | undefined, reply: (status: number, body: Answer['body']) => void): void {
    db.query('select 1', (error) => {
      if (error) return reply(500, { message: error.message });
      api.get('/profile', user === undefined ? {} : { token: { user } }).then(
        ({ data }: { data: { sub: unknown } }) => reply(200, { sub: data.sub }),
        (failure: unknown) => reply(502, isTokenError(failure) ? { code: failure.code, message: failure.message } : { message: String(failure) }),
      );
    });
  }

  /** `explicit`: the route passes its request's user with the call, `token: { user }`. */
  function expressApp(middleware: express.RequestHandler, explicit = false): Promise<Server> {
    const server = express()
      .use(middleware)
      .get('/me', (req, res) => profile(explicit ? req.headers.authorization : undefined, (status, body) => res.status(status).json(body)))
      .listen(0, '127.0.0.1');
    return once(server, 'listening').then(() => server);
  }

  function koaApp(explicit = false): Promise<Server> {
    const koa = new Koa();
    koa.use(captureUserTokenKoa());
    koa.use(async (ctx) => {
      const user = explicit ? ctx.headers.authorization : undefined;
      const answer = await new Promise<Answer>((resolve) => profile(user, (status, body) => resolve({ status, body })));
      ctx.status = answer.status;
      ctx.body = answer.body;
    });
    const server = koa.listen(0, '127.0.0.1');
    return once(server, 'listening').then(() => server);
  }

  async function get(userToken: string): Promise<Answer> {
    const { port } = app.address() as AddressInfo;
    // fetch (undici), not axios: the test's own requests go through no interceptor of the app's.
    const response = await fetch(`http://127.0.0.1:${port}/me`, { headers: { authorization: `Bearer ${userToken}` } });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  const exchangesSent = () => texas.requests.filter((request) => request.path === '/api/v1/token/exchange').length;

  /** B opens the connection; A's request, whose callback runs in B's ended context, never acts as B. */
  async function expectNeverBob(): Promise<void> {
    expect(await get(bob), "bob's own request").to.deep.equal({ status: 200, body: { sub: 'bob' } });
    const exchanges = exchangesSent();
    const answer = await get(alice);
    expect(answer.body.sub, "alice's request was answered with bob's data").to.not.equal('bob');
    expect(answer.status).to.equal(502);
    expect(answer.body.code).to.equal('no_user_token');
    expect(answer.body.message).to.match(/belongs to a request that has ended/);
    expect(answer.body.message).to.not.include('\n');
    expect(exchangesSent(), 'an exchange was sent from the ended context').to.equal(exchanges);
  }

  it("behind captureUserToken() (Express): an exchange in the callback fails with no_user_token, never with the opener's token", async () => {
    app = await expressApp(captureUserToken());
    await expectNeverBob();
  });

  it('behind requireToken() (Express)', async () => {
    app = await expressApp(requireToken({ endpoint: texas.introspectionEndpoint, identityProvider: 'entra_id' }) as express.RequestHandler);
    await expectNeverBob();
  });

  it('behind captureUserTokenKoa() (Koa)', async () => {
    app = await koaApp();
    await expectNeverBob();
  });

  describe("with the request's user passed explicitly, token: { user }", () => {
    /** Both users, in both orders: each gets their own data, whoever opened the connection. */
    async function expectEachTheirOwn(): Promise<void> {
      expect(await get(bob)).to.deep.equal({ status: 200, body: { sub: 'bob' } });
      expect(await get(alice)).to.deep.equal({ status: 200, body: { sub: 'alice' } });
      expect(await get(bob)).to.deep.equal({ status: 200, body: { sub: 'bob' } });
      const [a, b] = await Promise.all([get(alice), get(bob)]);
      expect([a.body.sub, b.body.sub]).to.deep.equal(['alice', 'bob']);
    }

    it('behind captureUserToken() (Express)', async () => {
      app = await expressApp(captureUserToken(), true);
      await expectEachTheirOwn();
    });

    it('behind requireToken() (Express)', async () => {
      app = await expressApp(requireToken({ endpoint: texas.introspectionEndpoint, identityProvider: 'entra_id' }) as express.RequestHandler, true);
      await expectEachTheirOwn();
    });

    it('behind captureUserTokenKoa() (Koa)', async () => {
      app = await koaApp(true);
      await expectEachTheirOwn();
    });
  });
});
