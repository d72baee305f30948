import axios, { type AxiosError, type AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';
import { expect } from 'chai';
import nock from 'nock';
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import type { AccessToken, TokenSource } from '../../../lib/types.js';

// Every team logs the API's failed calls. An AxiosError holds the request it belongs to in many
// places (config.headers, the ClientRequest's raw header block and header table, the redirect
// wrapper, response.config, response.request): the token the package attached must be in none of
// the views a logger takes, while a re-send of the config through the instance still works.

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const EXPIRES_AT = Date.parse('2030-01-02T03:04:05.000Z');

/** A cached source: the same token until a refresh is forced. */
function countingSource() {
  const state = { forced: 0, calls: 0 };
  const source: TokenSource = {
    async getToken(_scope, options): Promise<AccessToken> {
      state.calls += 1;
      if (options?.forceRefresh) state.forced += 1;
      return { token: `m2m-secret-token-${state.forced}-0123456789abcdef`, expiresAt: EXPIRES_AT };
    },
  };
  return { source, state };
}

/** Every view of an error that loggers take (console.error, pino, winston, Sentry's serialisers). */
function views(error: AxiosError): Record<string, string> {
  const request = error.request as { _header?: string; getHeaders?: () => unknown } | undefined;
  return {
    inspect: inspect(error),
    inspectDeep: inspect(error, { depth: Infinity }),
    inspectHidden: inspect(error, { depth: Infinity, showHidden: true }),
    json: JSON.stringify(error),
    toJSON: JSON.stringify(error.toJSON()),
    string: String(error),
    stack: String(error.stack),
    configHeaders: JSON.stringify(error.config?.headers),
    responseConfigHeaders: String(JSON.stringify(error.response?.config?.headers)),
    rawHeader: String(request?._header),
    getHeaders: String(JSON.stringify(request?.getHeaders?.())),
    responseRequest: inspect(error.response?.request, { depth: Infinity, showHidden: true }),
  };
}

function expectNoToken(error: AxiosError, tokens: string[]): void {
  for (const [view, text] of Object.entries(views(error))) {
    for (const token of tokens)
      expect(text.includes(token), `${view} shows ${token}: ${text.slice(Math.max(0, text.indexOf(token) - 1500), text.indexOf(token) + 50)}`).to.equal(false);
  }
}

/**
 * An API on loopback that records the token of every request and answers the scripted statuses
 * (then 200), with a body that never echoes the token: what is found in an error is the package's.
 */
async function startApi() {
  const seen: { token: string | undefined }[] = [];
  const state = { statuses: [] as number[] };
  const server = createHttpServer((req, res) => {
    req.resume();
    seen.push({ token: req.headers.authorization?.replace(/^Bearer /, '') });
    const status = state.statuses.shift() ?? 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    state,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const digestOf = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 8);

describe('attachToken: no token in the errors of the API', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let instance: AxiosInstance;
  let sources: ReturnType<typeof countingSource>;

  // Real sockets: nock, once imported by another spec, wraps every request in sockets of its own.
  before(() => nock.restore());
  after(() => nock.activate());

  beforeEach(async () => {
    api = await startApi();
    instance = axios.create({ baseURL: api.url });
    sources = countingSource();
  });
  afterEach(() => api.close());

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('expected the request to fail'),
      (error: AxiosError) => error,
    );

  it('keeps the token out of every view of a 500, and leaves its scope, expiry and digest', async () => {
    attachToken(instance, { source: sources.source, scope: SCOPE });
    api.state.statuses.push(500);
    const error = await failure(instance.get('/things'));
    const token = api.seen[0]!.token!;
    expect(token).to.equal('m2m-secret-token-0-0123456789abcdef'); // the API got the real one
    expect(error.response?.status).to.equal(500);
    expectNoToken(error, [token]);
    const note = `Bearer [redacted by axios-m2m: sha256 ${digestOf(token)}, scope ${SCOPE}, expires 2030-01-02T03:04:05.000Z]`;
    expect(error.config!.headers.get('Authorization')).to.equal(note);
    expect((error.request as { _header: string })._header).to.include(`Authorization: ${note}`);
    expect((error.request as { getHeader(name: string): unknown }).getHeader('authorization')).to.equal(note);
  });

  it('keeps both tokens out of the error of a 401 that the one retry does not cure', async () => {
    attachToken(instance, { source: sources.source, scope: SCOPE });
    api.state.statuses.push(401, 401);
    const error = await failure(instance.get('/things'));
    const tokens = api.seen.map((seen) => seen.token!);
    expect(tokens).to.deep.equal(['m2m-secret-token-0-0123456789abcdef', 'm2m-secret-token-1-0123456789abcdef']);
    expect(sources.state.forced).to.equal(1);
    expectNoToken(error, tokens);
    expect(error.config!.headers.get('Authorization')).to.include(`sha256 ${digestOf(tokens[1]!)}`);
  });

  it('keeps the token out of an error without a response (connection refused)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const nowhere = axios.create({ baseURL: `http://127.0.0.1:${port}` });
    attachToken(nowhere, { source: sources.source, scope: SCOPE });
    const error = await failure(nowhere.get('/things'));
    expect(error.code).to.equal('ECONNREFUSED');
    expectNoToken(error, ['m2m-secret-token-0-0123456789abcdef']);
  });

  it('lets axios-retry on the same instance re-send the config with a valid token', async () => {
    attachToken(instance, { source: sources.source, scope: SCOPE });
    axiosRetry(instance, { retries: 1, retryDelay: () => 0, retryCondition: (e) => e.response?.status === 500 });
    api.state.statuses.push(500);
    const response = await instance.get('/things');
    expect(response.status).to.equal(200);
    expect(api.seen.map((seen) => seen.token)).to.deep.equal(['m2m-secret-token-0-0123456789abcdef', 'm2m-secret-token-0-0123456789abcdef']);
  });

  it("lets the user's own response interceptor re-send err.config through the instance with a valid token", async () => {
    attachToken(instance, { source: sources.source, scope: SCOPE });
    let resent = 0;
    instance.interceptors.response.use(undefined, (error: AxiosError) => {
      if (error.response?.status !== 503 || resent++ > 0) throw error;
      expectNoToken(error, ['m2m-secret-token-0-0123456789abcdef']); // what it would log
      return instance.request(error.config!);
    });
    api.state.statuses.push(503);
    const response = await instance.get('/things');
    expect(response.status).to.equal(200);
    expect(api.seen.map((seen) => seen.token)).to.deep.equal(['m2m-secret-token-0-0123456789abcdef', 'm2m-secret-token-0-0123456789abcdef']);
  });

  it("leaves the user's own Authorization of a request with token: false as it is", async () => {
    attachToken(instance, { source: sources.source, scope: SCOPE });
    api.state.statuses.push(500);
    const error = await failure(instance.get('/things', { token: false, headers: { Authorization: 'Bearer users-own-token' } }));
    expect(api.seen[0]!.token).to.equal('users-own-token');
    expect(error.config!.headers.get('Authorization')).to.equal('Bearer users-own-token');
  });
});
