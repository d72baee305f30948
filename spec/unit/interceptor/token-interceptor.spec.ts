import axios, { AxiosError, AxiosHeaders, type AxiosAdapter, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import sinon from 'sinon';
import { TokenError } from '../../../lib/errors.js';
import { subscribe, type RetryEvent } from '../../../lib/events.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { tokenInterceptor, type TokenInterceptorOptions } from '../../../lib/interceptor/token-interceptor.js';
import type { AccessToken, GetTokenOptions, TokenSource } from '../../../lib/types.js';

// The interceptor's two handlers on a real axios instance whose adapter is a function: axios merges
// configs, runs the interceptors and settles as it does for a network call, and what the adapter
// is handed is exactly what would have gone on the wire.

const SCOPE = 'api://unit.team.api/.default';
const BASE = 'https://api.example';
const NOW = Date.parse('2030-01-01T00:00:00.000Z');
const EXPIRES = NOW + 3_600_000;

/** What the adapter saw of one request. */
interface Seen {
  method: string;
  url: string;
  authorization: unknown;
  headers: Record<string, unknown>;
  data: unknown;
  auth: unknown;
  config: InternalAxiosRequestConfig;
}

/** An answer: a status, or a function of the request that may do something first (abort, …). */
type Answer = number | ((config: InternalAxiosRequestConfig) => number);

/** An adapter that records every request and answers each with the next status (200 when none are left). */
function fakeApi() {
  const seen: Seen[] = [];
  const answers: Answer[] = [];
  const adapter: AxiosAdapter = async (config) => {
    const headers = AxiosHeaders.from(config.headers).toJSON() as Record<string, unknown>;
    const authorization = headers.Authorization;
    seen.push({ method: config.method ?? 'get', url: config.url ?? '', authorization, headers, data: config.data, auth: config.auth, config });
    const next = answers.shift() ?? 200;
    const status = typeof next === 'function' ? next(config) : next;
    // What Node's http adapter leaves on an error: the raw header block it wrote.
    const request = { _header: `${(config.method ?? 'get').toUpperCase()} ${config.url} HTTP/1.1\r\nAuthorization: ${String(authorization)}\r\n\r\n` };
    const response: AxiosResponse = { status, statusText: String(status), headers: {}, config, request, data: { status } };
    if (status < 400) return response;
    throw new AxiosError(`Request failed with status code ${status}`, status < 500 ? 'ERR_BAD_REQUEST' : 'ERR_BAD_RESPONSE', config, request, response);
  };
  return { seen, answers, adapter };
}

/**
 * A stand-in for a cached source: the same token per scope until a forced refresh, which makes the
 * next one (and takes `refreshTakes` ms of the fake clock). Tokens are numbered across scopes.
 */
function standInSource(clock?: sinon.SinonFakeTimers) {
  const calls: { scope: string; options: GetTokenOptions }[] = [];
  const current = new Map<string, AccessToken>();
  let issued = 0;
  /** `onRefresh` runs at each forced refresh and may throw (a failed refresh). */
  const state: { failNext?: Error; refreshTakes: number; onRefresh?: (options: GetTokenOptions) => void } = { refreshTakes: 0 };
  const source: TokenSource = {
    async getToken(scope, options = {}) {
      calls.push({ scope, options });
      if (state.failNext !== undefined) {
        const error = state.failNext;
        delete state.failNext;
        throw error;
      }
      let token = current.get(scope);
      if (token === undefined || options.forceRefresh === true) {
        if (options.forceRefresh === true) {
          state.onRefresh?.(options);
          clock?.tick(state.refreshTakes);
        }
        issued += 1;
        token = { token: `secret-token-${issued}`, expiresAt: EXPIRES };
        current.set(scope, token);
      }
      return token;
    },
  };
  return { source, calls, state };
}

const fail = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected the request to fail'),
    (error: unknown) => error,
  );

/** Every view of an error a logger may take. */
function views(error: unknown): string {
  const e = error as Error & { toJSON?: () => unknown };
  return [e.message, e.stack, JSON.stringify(e), JSON.stringify(e.toJSON?.()), inspect(e, { depth: Infinity, showHidden: true })].join('\n');
}

describe('tokenInterceptor(options) on an axios instance', () => {
  let clock: sinon.SinonFakeTimers;
  let api: ReturnType<typeof fakeApi>;
  let tokens: ReturnType<typeof standInSource>;
  let instance: AxiosInstance;
  let retries: RetryEvent[];
  let stop: () => void;

  /** Registers the handlers on `on` (the instance by default). */
  function attach(options: Partial<TokenInterceptorOptions> = {}, on: AxiosInstance = instance) {
    const { request, responseError } = tokenInterceptor({ source: tokens.source, scope: SCOPE, ...options });
    on.interceptors.request.use(request);
    on.interceptors.response.use(undefined, responseError);
  }

  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] });
    api = fakeApi();
    tokens = standInSource(clock);
    instance = axios.create({ baseURL: BASE, adapter: api.adapter });
    retries = [];
    stop = subscribe('axios-m2m:request:retry', (event) => retries.push(event));
  });
  afterEach(() => {
    stop();
    clock.restore();
  });

  describe('options', () => {
    it('refuses a source without getToken, an empty or non-string scope, and a retryOn that is not a list of statuses', () => {
      for (const source of [undefined, null, {}, { getToken: 'x' }]) {
        expect(() => tokenInterceptor({ source } as never)).to.throw(TypeError, 'axios-m2m: expected source to be a TokenSource (an object with getToken), got ');
      }
      for (const scope of ['', 42, null]) {
        expect(() => tokenInterceptor({ source: tokens.source, scope } as never)).to.throw(
          TypeError,
          'axios-m2m: expected scope to be a non-empty string or a function, got ',
        );
      }
      for (const retryOn of ['401', [401, '403'], [401.5], {}]) {
        expect(() => tokenInterceptor({ source: tokens.source, retryOn } as never)).to.throw(
          TypeError,
          'axios-m2m: expected retryOn to be an array of HTTP statuses, got ',
        );
      }
      expect(() => tokenInterceptor(undefined as never)).to.throw(TypeError, /expected source to be a TokenSource/);
      expect(() => tokenInterceptor({ source: tokens.source, scope: () => SCOPE, retryOn: [] })).to.not.throw();
    });
  });

  describe('the request handler', () => {
    it('sets Authorization: Bearer with a token for the scope, asking the source with the request signal and nothing else', async () => {
      attach();
      const controller = new AbortController();
      await instance.get('/things', { signal: controller.signal });
      expect(api.seen.map((s) => s.authorization)).to.deep.equal(['Bearer secret-token-1']);
      expect(tokens.calls).to.have.length(1);
      expect(tokens.calls[0]!.scope).to.equal(SCOPE);
      expect(tokens.calls[0]!.options).to.deep.equal({ signal: controller.signal });
      expect(Object.keys(tokens.calls[0]!.options)).to.deep.equal(['signal']); // no user: the context decides
    });

    it('passes no signal for a signal that is not an AbortSignal', async () => {
      attach();
      await instance.get('/things', { signal: { aborted: false } });
      expect(tokens.calls[0]!.options).to.deep.equal({ signal: undefined });
    });

    it("takes the request's scope over the instance's, the instance's over the option, and calls a scope function with the config", async () => {
      const scoped = axios.create({ baseURL: BASE, adapter: api.adapter, token: { scope: 'api://instance/.default' } });
      attach({}, scoped);
      await scoped.get('/a');
      await scoped.get('/b', { token: { scope: 'api://request/.default' } });
      attach();
      await instance.get('/c');
      await instance.get('/d', { token: null });
      const seenByFunction: string[] = [];
      const mapped = axios.create({ baseURL: BASE, adapter: api.adapter });
      attach(
        {
          scope: (config) => {
            seenByFunction.push(config.url!);
            return config.url!.startsWith('/orders') ? 'api://orders/.default' : 'api://other/.default';
          },
        },
        mapped,
      );
      await mapped.get('/orders/1');
      await mapped.get('/users/1');
      await mapped.get('/orders/2', { token: { scope: 'api://request/.default' } });
      expect(tokens.calls.map((c) => c.scope)).to.deep.equal([
        'api://instance/.default',
        'api://request/.default',
        SCOPE,
        SCOPE,
        'api://orders/.default',
        'api://other/.default',
        'api://request/.default',
      ]);
      expect(seenByFunction).to.deep.equal(['/orders/1', '/users/1']); // not called when the request names its scope
    });

    it("passes the request's token: { user } to the source, with the signal", async () => {
      attach();
      await instance.get('/things', { token: { user: 'Bearer end-user' } });
      expect(tokens.calls[0]!.options).to.deep.equal({ signal: undefined, user: 'Bearer end-user' });
    });

    it('fails a request without a scope with a TypeError naming it and the remedy, asking nothing and sending nothing', async () => {
      attach({ scope: undefined });
      const error = await fail(instance.post('/things?secret=1', {}));
      expect(error).to.be.instanceOf(TypeError);
      expect((error as Error).message).to.equal('axios-m2m: no scope for POST /things: give attachToken a scope, or the instance or request token: { scope }');
      attach({ scope: () => undefined }, (instance = axios.create({ baseURL: BASE, adapter: api.adapter })));
      expect(((await fail(instance.get('/x'))) as Error).message).to.match(/^axios-m2m: no scope for GET \/x: /);
      expect(tokens.calls).to.have.length(0);
      expect(api.seen).to.have.length(0);
    });

    it('refuses a wrong request option token before asking the source', async () => {
      attach();
      for (const token of ['api://x/.default', 0, true, { scope: '' }, { user: '' }]) {
        const error = await fail(instance.get('/things', { token: token as never }));
        expect(error).to.be.instanceOf(TypeError);
        expect((error as Error).message).to.match(/^axios-m2m: expected the request option token/);
      }
      expect(tokens.calls).to.have.length(0);
      expect(api.seen).to.have.length(0);
    });

    it("replaces any Authorization the request has, an instance default, its own header and axios's auth", async () => {
      const withDefaults = axios.create({ baseURL: BASE, adapter: api.adapter, headers: { Authorization: 'Bearer instance-default' } });
      attach({}, withDefaults);
      await withDefaults.get('/a');
      await withDefaults.get('/b', { headers: { authorization: 'Basic dXNlcjpwdw==', 'X-Other': 'kept' } });
      await withDefaults.get('/c', { auth: { username: 'user', password: 'pw' } });
      await withDefaults.get('/d', { headers: { Authorization: false } });
      expect(api.seen.map((s) => s.authorization)).to.deep.equal(Array(4).fill('Bearer secret-token-1'));
      expect(api.seen.map((s) => Object.keys(s.headers).filter((name) => name.toLowerCase() === 'authorization'))).to.deep.equal(Array(4).fill(['Authorization']));
      expect(api.seen[1]!.headers['X-Other']).to.equal('kept');
      expect(api.seen.map((s) => s.auth)).to.deep.equal([undefined, undefined, undefined, undefined]);
    });

    it('sends a request with token: false as it is, with its own Authorization, without asking the source', async () => {
      attach();
      await instance.get('/own', { token: false, headers: { Authorization: 'Bearer users-own' } });
      await instance.get('/basic', { token: false, headers: { Authorization: 'Basic abc' } });
      await instance.get('/none', { token: false });
      expect(api.seen.map((s) => s.authorization)).to.deep.equal(['Bearer users-own', 'Basic abc', undefined]);
      expect(tokens.calls).to.have.length(0);
    });

    it('guards redirects: the hop to another origin goes without the token, a hop on the origin keeps it', async () => {
      attach();
      await instance.get('/things');
      const hook = api.seen[0]!.config.beforeRedirect as unknown as (options: { href: string; headers: Record<string, string> }, response: unknown) => void;
      expect(hook).to.be.a('function');
      const off = { href: 'https://evil.api.example/x', headers: { Authorization: 'Bearer secret-token-1', Accept: '*/*' } };
      const on = { href: `${BASE}/y`, headers: { Authorization: 'Bearer secret-token-1' } };
      hook(off, {});
      hook(on, {});
      expect(off.headers).to.deep.equal({ Accept: '*/*' });
      expect(on.headers).to.deep.equal({ Authorization: 'Bearer secret-token-1' });
    });

    it('sends an absolute URL of another origin than the baseURL without the token, and one of origins or the same origin with it', async () => {
      attach({ origins: ['https://other-api.example'] });
      await instance.get('https://elsewhere.example/x', { headers: { Authorization: 'Bearer users-own' } });
      await instance.get('https://other-api.example/y');
      await instance.get(`${BASE}/z`);
      expect(api.seen.map((s) => [s.url, s.authorization])).to.deep.equal([
        ['https://elsewhere.example/x', 'Bearer users-own'],
        ['https://other-api.example/y', 'Bearer secret-token-1'],
        [`${BASE}/z`, 'Bearer secret-token-1'],
      ]);
      expect(tokens.calls).to.have.length(2);
    });

    it('fails a request whose origin nobody named with a TypeError saying where it goes, sending nothing', async () => {
      const bare = axios.create({ adapter: api.adapter });
      attach({ origins: ['https://other-api.example'] }, bare);
      await bare.get('https://other-api.example/ok');
      const relative = (await fail(bare.get('/things?q=1'))) as Error;
      expect(relative).to.be.instanceOf(TypeError);
      expect(relative.message).to.equal(
        'axios-m2m: no token for GET /things: it goes to a URL whose origin cannot be told (a relative URL without a baseURL, or one that does not parse); ' +
          'use axios.create({ baseURL }), list the origin in origins, or send this request with token: false',
      );
      const absolute = (await fail(bare.delete('https://elsewhere.example/x'))) as Error;
      expect(absolute).to.be.instanceOf(TypeError);
      expect(absolute.message).to.equal(
        "axios-m2m: no token for DELETE https://elsewhere.example/x: it goes to https://elsewhere.example, which is neither the baseURL's origin nor in origins; " +
          'use axios.create({ baseURL }), list the origin in origins, or send this request with token: false',
      );
      expect(api.seen.map((s) => s.url)).to.deep.equal(['https://other-api.example/ok']);
      expect(tokens.calls).to.have.length(1);
    });

    it("drops its own token (or its note of it) from a config sent again with token: false or to another origin, and keeps a user's own", async () => {
      attach();
      await instance.get('/ok');
      const first = api.seen.shift()!.config; // our header as it went out
      api.answers.push(500);
      const error = (await fail(instance.get('/first'))) as AxiosError;
      api.seen.shift();
      await instance.request({ ...first, token: false }); // our header, copied
      await instance.request({ ...error.config!, token: false }); // our note of it, copied
      await instance.request({ ...first, url: 'https://elsewhere.example/x' });
      await instance.request({ ...first, token: false, headers: { Authorization: 'Bearer secret-token-1x' } });
      expect(api.seen.map((s) => s.authorization)).to.deep.equal([undefined, undefined, undefined, 'Bearer secret-token-1x']);
    });

    it('does not retry a 401 of a config sent again with token: false, though it carries the record of its first pass', async () => {
      attach();
      await instance.get('/first');
      api.answers.push(401);
      const error = (await fail(instance.request({ ...api.seen[0]!.config, token: false }))) as AxiosError;
      expect(error.response?.status).to.equal(401);
      expect(api.seen).to.have.length(2);
      expect(tokens.calls).to.have.length(1);
    });

    it('passes a TokenError from the source to the caller as it is, with no token sent', async () => {
      attach();
      const failure = new TokenError('invalid_client', 'token request for x failed: 401 invalid_client', { status: 401 });
      tokens.state.failNext = failure;
      expect(await fail(instance.get('/things'))).to.equal(failure);
      expect(api.seen).to.have.length(0);
    });

    it("rejects as axios's own cancellations do when the caller aborts while the token is awaited", async () => {
      attach();
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      controller.abort(reason);
      tokens.state.failNext = reason; // what a source rejects with for an aborted wait
      const error = await fail(instance.get('/things', { signal: controller.signal }));
      expect(axios.isCancel(error)).to.equal(true);
      // Another failure while aborted, and the same failure without an abort, stay as they are.
      const other = new TokenError('network', 'token request failed');
      tokens.state.failNext = other;
      expect(await fail(instance.get('/things', { signal: controller.signal }))).to.equal(other);
      tokens.state.failNext = reason;
      expect(await fail(instance.get('/things'))).to.equal(reason);
    });
  });

  describe('the response handler', () => {
    it('retries a 401 once with a forced refresh, and returns the retry, publishing the retry event', async () => {
      attach();
      tokens.state.refreshTakes = 40;
      await instance.get('/warm');
      api.answers.push(401);
      const response = await instance.get('/things?page=2', { headers: { 'X-Request': 'kept' } });
      expect(response.status).to.equal(200);
      expect(response.config.url).to.equal('/things?page=2');
      expect(api.seen.slice(1).map((s) => [s.url, s.authorization, s.headers['X-Request']])).to.deep.equal([
        ['/things?page=2', 'Bearer secret-token-1', 'kept'],
        ['/things?page=2', 'Bearer secret-token-2', 'kept'],
      ]);
      expect(tokens.calls.map((c) => [c.scope, c.options.forceRefresh === true])).to.deep.equal([
        [SCOPE, false],
        [SCOPE, false],
        [SCOPE, false],
        [SCOPE, true],
      ]);
      expect(retries).to.deep.equal([{ scope: SCOPE, status: 401, method: 'GET', path: '/things', refreshed: true, duration: 40 }]);
    });

    it("retries with the request's scope and user, and the same body, serialised once", async () => {
      attach();
      api.answers.push(401);
      const transformRequest = [(data: unknown) => JSON.stringify({ envelope: data })];
      await instance.post('/things', { name: 'x' }, { token: { scope: 'api://request/.default', user: 'end-user' }, transformRequest });
      expect(api.seen.map((s) => s.data)).to.deep.equal(['{"envelope":{"name":"x"}}', '{"envelope":{"name":"x"}}']);
      expect(tokens.calls.map((c) => [c.scope, c.options.user, c.options.forceRefresh])).to.deep.equal([
        ['api://request/.default', 'end-user', undefined],
        ['api://request/.default', 'end-user', undefined],
        ['api://request/.default', 'end-user', true],
      ]);
      expect(api.seen[1]!.authorization).to.equal('Bearer secret-token-2');
    });

    it('retries a 401 whose token was replaced since, with the current one and refreshed: false', async () => {
      const { request, responseError } = tokenInterceptor({ source: tokens.source, scope: SCOPE });
      instance.interceptors.request.use(request);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      instance.interceptors.response.use(undefined, async (error: unknown) => {
        if ((error as AxiosError).config?.url === '/slow') await held;
        return responseError(error);
      });
      api.answers.push(401, 401);
      const slow = instance.get('/slow');
      await instance.get('/fast'); // 401, forced refresh: secret-token-2
      release();
      expect((await slow).status).to.equal(200);
      expect(api.seen.map((s) => [s.url, s.authorization])).to.deep.equal([
        ['/slow', 'Bearer secret-token-1'],
        ['/fast', 'Bearer secret-token-1'],
        ['/fast', 'Bearer secret-token-2'],
        ['/slow', 'Bearer secret-token-2'],
      ]);
      expect(retries.map((r) => [r.path, r.refreshed])).to.deep.equal([
        ['/fast', true],
        ['/slow', false],
      ]);
    });

    it('gives the caller the 401 when the retry is refused too, after exactly two attempts, with neither token in it', async () => {
      attach();
      api.answers.push(401, 401, 401);
      const error = (await fail(instance.get('/things'))) as AxiosError;
      expect(error).to.be.instanceOf(AxiosError);
      expect(error.response?.status).to.equal(401);
      expect(api.seen.map((s) => s.authorization)).to.deep.equal(['Bearer secret-token-1', 'Bearer secret-token-2']);
      expect(views(error)).to.not.include('secret-token-');
      expect(error.config!.headers.Authorization).to.match(
        /^Bearer \[redacted by axios-m2m: sha256 [0-9a-f]{8}, scope api:\/\/unit\.team\.api\/\.default, expires 2030-01-01T01:00:00\.000Z\]$/,
      );
    });

    it('retries a 403 with retryOn: [401, 403]; by default a 403 or a 500 goes to the caller after one attempt; retryOn: [403] does not retry a 401', async () => {
      attach({ retryOn: [401, 403] });
      api.answers.push(403);
      expect((await instance.get('/a')).status).to.equal(200);
      const plain = axios.create({ baseURL: BASE, adapter: api.adapter });
      attach({}, plain);
      for (const status of [403, 500]) {
        api.answers.push(status);
        expect(((await fail(plain.get(`/s/${status}`))) as AxiosError).response?.status).to.equal(status);
      }
      const only403 = axios.create({ baseURL: BASE, adapter: api.adapter });
      attach({ retryOn: [403] }, only403);
      api.answers.push(401);
      expect(((await fail(only403.get('/b'))) as AxiosError).response?.status).to.equal(401);
      expect(api.seen.map((s) => s.url)).to.deep.equal(['/a', '/a', '/s/403', '/s/500', '/b']);
      expect(tokens.calls.filter((c) => c.options.forceRefresh === true)).to.have.length(1);
    });

    it('does not replay a stream body: the caller gets the 401', async () => {
      attach();
      api.answers.push(401);
      const error = (await fail(instance.post('/upload', Readable.from(['chunk']), { headers: { 'content-type': 'text/plain' } }))) as AxiosError;
      expect(error.response?.status).to.equal(401);
      expect(api.seen).to.have.length(1);
      expect(tokens.calls).to.have.length(1);
    });

    it('returns the 401 of a request the caller aborted meanwhile, without a retry', async () => {
      const { request, responseError } = tokenInterceptor({ source: tokens.source, scope: SCOPE });
      const controller = new AbortController();
      instance.interceptors.request.use(request);
      instance.interceptors.response.use(undefined, (error: unknown) => {
        controller.abort(); // the caller gave up while the 401 was on its way
        return responseError(error);
      });
      api.answers.push(401);
      const error = (await fail(instance.get('/things', { signal: controller.signal }))) as AxiosError;
      expect(error.response?.status).to.equal(401);
      expect(api.seen).to.have.length(1);
      expect(tokens.calls).to.have.length(1);
    });

    it('gives the caller the failure of the forced refresh, not the 401, and a cancellation when the caller aborted it', async () => {
      attach();
      const failure = new TokenError('invalid_client', 'token request failed: 401 invalid_client', { status: 401 });
      tokens.state.onRefresh = () => {
        throw failure;
      };
      api.answers.push(401);
      expect(await fail(instance.get('/things'))).to.equal(failure);
      const controller = new AbortController();
      tokens.state.onRefresh = (options) => {
        controller.abort(new Error('caller gave up'));
        throw options.signal?.reason;
      };
      api.answers.push(401);
      const aborted = await fail(instance.get('/things', { signal: controller.signal }));
      expect(axios.isCancel(aborted)).to.equal(true);
      expect(api.seen).to.have.length(2);
      expect(retries).to.deep.equal([]);
    });

    it('leaves errors without a response, without a config, and not from axios as they are, with the token redacted where there is one', async () => {
      const { responseError } = tokenInterceptor({ source: tokens.source, scope: SCOPE });
      const plain = new Error('not axios');
      expect(await fail(responseError(plain))).to.equal(plain);
      const noConfig = new AxiosError('no config');
      expect(await fail(responseError(noConfig))).to.equal(noConfig);
      const refusedNoConfig = new AxiosError('no config', 'ERR_BAD_REQUEST', undefined, undefined, { status: 401 } as AxiosResponse);
      expect(await fail(responseError(refusedNoConfig))).to.equal(refusedNoConfig);
      attach();
      // Not from axios, though shaped like a 401 of a request this interceptor sent: not retried.
      await instance.get('/sent');
      const lookalike = Object.assign(new Error('not axios'), { config: api.seen[0]!.config, response: { status: 401 } });
      expect(await fail(responseError(lookalike))).to.equal(lookalike);
      expect(tokens.calls).to.have.length(1);
      api.seen.length = 0;
      api.answers.push((config) => {
        throw new AxiosError('connect ECONNREFUSED', 'ECONNREFUSED', config, { _header: 'Authorization: Bearer secret-token-1\r\n' });
      });
      const refused = (await fail(instance.get('/things'))) as AxiosError;
      expect(refused.code).to.equal('ECONNREFUSED');
      expect(views(refused)).to.not.include('secret-token-1');
      expect((refused.request as { _header: string })._header).to.match(/^Authorization: Bearer \[redacted by axios-m2m: sha256 /);
      expect(api.seen).to.have.length(1);
    });

    it('keeps the token out of every view of an error the API answered, a 500', async () => {
      attach();
      api.answers.push(500);
      const error = (await fail(instance.get('/things'))) as AxiosError;
      expect(error.response?.status).to.equal(500);
      expect(views(error)).to.not.include('secret-token-1');
      expect(String(error.config!.headers.Authorization)).to.match(/^Bearer \[redacted by axios-m2m: sha256 [0-9a-f]{8}, scope /);
    });

    it("keeps the fresh token out of the error of a retry that fails otherwise, and leaves a user's own Authorization in an error", async () => {
      attach();
      api.answers.push(401, 500);
      const error = (await fail(instance.get('/things'))) as AxiosError;
      expect(error.response?.status).to.equal(500);
      expect(api.seen.map((s) => s.authorization)).to.deep.equal(['Bearer secret-token-1', 'Bearer secret-token-2']);
      expect(views(error)).to.not.include('secret-token-');
      api.answers.push(500);
      const own = (await fail(instance.get('/own', { token: false, headers: { Authorization: 'Bearer users-own' } }))) as AxiosError;
      expect(own.config!.headers.Authorization).to.equal('Bearer users-own');
    });

    it("does not run the user's other interceptors again for the retried request", async () => {
      attach();
      let requestRuns = 0;
      instance.interceptors.request.use((config) => {
        requestRuns += 1;
        return config;
      });
      api.answers.push(401);
      await instance.get('/things');
      expect(requestRuns).to.equal(1);
      expect(api.seen).to.have.length(2);
    });

    it("never retries twice: not when the user's own handler re-sends the refused retry, nor with the handlers registered twice", async () => {
      attach();
      let resent = 0;
      instance.interceptors.response.use(undefined, async (error: AxiosError) => {
        if (error.response?.status === 401 && resent++ === 0) return instance.request(error.config!);
        throw error;
      });
      api.answers.push(401, 401, 401, 401);
      expect(((await fail(instance.get('/things'))) as AxiosError).response?.status).to.equal(401);
      expect(api.seen).to.have.length(3); // the request, our retry, the user's re-send of it
      expect(api.seen[2]!.authorization).to.equal('Bearer secret-token-2');
      expect(tokens.calls.filter((c) => c.options.forceRefresh === true)).to.have.length(1);

      const twice = axios.create({ baseURL: BASE, adapter: api.adapter });
      attach({}, twice);
      attach({}, twice);
      api.seen.length = 0;
      api.answers.length = 0;
      api.answers.push(401, 401, 401);
      expect(((await fail(twice.get('/twice'))) as AxiosError).response?.status).to.equal(401);
      expect(api.seen).to.have.length(2);
    });
  });

  it("keeps the request's user on a re-send of the retry, and refuses options that are not an object and a URL that does not parse", async () => {
    attach();
    let resent = 0;
    instance.interceptors.response.use(undefined, async (error: AxiosError) => {
      if (resent++ === 0) return instance.request(error.config!);
      throw error;
    });
    api.answers.push(401, 401);
    await instance.get('/things', { token: { user: 'end-user' } });
    expect(api.seen).to.have.length(3);
    expect(tokens.calls.map((c) => c.options.user)).to.deep.equal(['end-user', 'end-user', 'end-user', 'end-user']);
    expect(() => tokenInterceptor('x' as never)).to.throw(TypeError, 'axios-m2m: expected tokenInterceptor() options to be an object, got "x"');
    const error = await fail(instance.get('https://[not-a-url/x'));
    expect(error).to.be.instanceOf(TypeError);
    expect((error as Error).message).to.match(/^axios-m2m: no token for GET https:\/\/\[not-a-url\/x: it goes to a URL whose origin cannot be told/);
  });

  it('works the same through attachToken', async () => {
    attachToken(instance, { source: tokens.source, scope: SCOPE });
    api.answers.push(401);
    expect((await instance.get('/things')).status).to.equal(200);
    expect(api.seen.map((s) => s.authorization)).to.deep.equal(['Bearer secret-token-1', 'Bearer secret-token-2']);
  });
});
