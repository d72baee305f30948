import axios, { AxiosError, type AxiosInstance } from 'axios';
import axiosRetry from 'axios-retry';
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { withCache } from '../../../lib/cache/with-cache.js';
import { TokenError } from '../../../lib/errors.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { tokenInterceptor } from '../../../lib/interceptor/token-interceptor.js';
import type { AccessToken, GetTokenOptions } from '../../../lib/types.js';
import { startRecordingApi } from '../../support/recording-api.js';

const SCOPE = 'api://dev-gcp.team.api/.default';

/** A cached source over a fetch that numbers its tokens per scope and records its calls. */
function countingSource() {
  const fetches: { scope: string; forceRefresh: boolean }[] = [];
  let failNext: TokenError | undefined;
  const source = withCache(async (scope: string, options: GetTokenOptions): Promise<AccessToken> => {
    await new Promise((resolve) => setImmediate(resolve)); // like a network round trip
    fetches.push({ scope, forceRefresh: options.forceRefresh === true });
    if (failNext) {
      const error = failNext;
      failNext = undefined;
      throw error;
    }
    return { token: `${scope}#${fetches.length}`, expiresAt: Date.now() + 3_600_000 };
  });
  return { source, fetches, failOnce: (error: TokenError) => (failNext = error) };
}

describe('attachToken(api, { source, scope })', () => {
  let api: Awaited<ReturnType<typeof startRecordingApi>>;
  let instance: AxiosInstance;
  let counting: ReturnType<typeof countingSource>;

  before(async () => {
    api = await startRecordingApi();
  });
  after(() => api.close());
  beforeEach(() => {
    api.seen.length = 0;
    api.refused.clear();
    api.state.statuses = [];
    counting = countingSource();
    instance = axios.create({ baseURL: api.url });
  });

  it('sets Authorization: Bearer with a token for the scope', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    await instance.get('/things');
    expect(api.seen[0]!.token).to.equal(`${SCOPE}#1`);
  });

  it("takes the request's scope over the instance's, and the instance's over attachToken's", async () => {
    const scoped = axios.create({ baseURL: api.url, token: { scope: 'api://instance/.default' } });
    attachToken(scoped, { source: counting.source, scope: 'api://option/.default' });
    await scoped.get('/a');
    await scoped.get('/b', { token: { scope: 'api://request/.default' } });
    attachToken(instance, { source: counting.source, scope: 'api://option/.default' });
    await instance.get('/c');
    expect(api.seen.map((r) => r.token?.split('#')[0])).to.deep.equal(['api://instance/.default', 'api://request/.default', 'api://option/.default']);
  });

  it('maps URLs to scopes with a scope function', async () => {
    attachToken(instance, {
      source: counting.source,
      scope: (config) => (config.url?.startsWith('/orders') ? 'api://orders/.default' : 'api://other/.default'),
    });
    await instance.get('/orders/1');
    await instance.get('/users/1');
    expect(api.seen.map((r) => r.token?.split('#')[0])).to.deep.equal(['api://orders/.default', 'api://other/.default']);
  });

  it('sends a request with token: false without a token, and without asking the source', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    await instance.get('/health', { token: false });
    expect(api.seen[0]!.token).to.equal(undefined);
    expect(counting.fetches).to.have.length(0);
  });

  it('fails a request that has no scope with a TypeError (a mistake in the code), sending nothing', async () => {
    attachToken(instance, { source: counting.source });
    const error = await instance.get('/things?secret=1').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TypeError);
    expect(error).to.include({
      message: 'axios-m2m: no scope for GET /things: give attachToken a scope, or the instance or request token: { scope }',
    });
    expect(api.seen).to.have.length(0);
  });

  it('fetches once for 100 requests', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    for (let i = 0; i < 100; i++) await instance.get('/things');
    expect(counting.fetches).to.have.length(1);
    expect(new Set(api.seen.map((r) => r.token)).size).to.equal(1);
  });

  it('shares one fetch per scope among hundreds of concurrent cold requests', async () => {
    attachToken(instance, { source: counting.source });
    const scopes = ['api://a/.default', 'api://b/.default', 'api://c/.default'];
    await Promise.all(Array.from({ length: 300 }, (_, i) => instance.get('/x', { token: { scope: scopes[i % 3] } })));
    expect(counting.fetches.map((f) => f.scope).sort()).to.deep.equal(scopes);
  });

  it('retries a 401 once with a forced refresh and returns the retry', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    await instance.get('/warm');
    api.refused.add(`${SCOPE}#1`);
    const response = await instance.get('/things');
    expect(response.status).to.equal(200);
    expect(counting.fetches).to.deep.equal([
      { scope: SCOPE, forceRefresh: false },
      { scope: SCOPE, forceRefresh: true },
    ]);
    expect(api.seen.slice(1).map((r) => [r.url, r.token])).to.deep.equal([
      ['/things', `${SCOPE}#1`],
      ['/things', `${SCOPE}#2`],
    ]);
  });

  it('answers a storm of 401s for one token with ONE fetch and retries every request once', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    await instance.get('/warm');
    api.refused.add(`${SCOPE}#1`);
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => instance.get(`/storm/${i}`)));
    expect(responses.every((r) => r.status === 200)).to.equal(true);
    expect(counting.fetches.filter((f) => f.forceRefresh)).to.have.length(1);
    expect(api.seen.filter((r) => r.token === `${SCOPE}#2`)).to.have.length(50);
    expect(api.seen).to.have.length(101);
  });

  it('retries a late 401 for a token that was already replaced with the current one, without a fetch', async () => {
    const { request, responseError } = tokenInterceptor({ source: counting.source, scope: SCOPE });
    instance.interceptors.request.use(request);
    // Hold the first response back until the token has been replaced.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    instance.interceptors.response.use(undefined, async (error: unknown) => {
      if ((error as AxiosError).config?.url === '/slow') await held;
      return responseError(error);
    });
    await instance.get('/warm');
    api.refused.add(`${SCOPE}#1`);
    const slow = instance.get('/slow');
    await instance.get('/fast'); // 401, forced refresh -> #2
    release();
    expect((await slow).status).to.equal(200);
    expect(counting.fetches.filter((f) => f.forceRefresh)).to.have.length(1);
    expect(api.seen.filter((r) => r.url === '/slow').map((r) => r.token)).to.deep.equal([`${SCOPE}#1`, `${SCOPE}#2`]);
  });

  it('gives the caller the 401 when the retry is refused too, after exactly two attempts', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    api.state.requireToken = true;
    api.state.statuses = [401, 401, 401];
    const error = (await instance.get('/things').catch((e: unknown) => e)) as AxiosError;
    expect(error).to.be.instanceOf(AxiosError);
    expect(error.response?.status).to.equal(401);
    expect(api.seen).to.have.length(2);
    expect(counting.fetches).to.have.length(2);
  });

  it('retries a 403 with retryOn: [401, 403], once, with a forced refresh', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE, retryOn: [401, 403] });
    api.state.statuses = [403];
    const response = await instance.get('/things');
    expect(response.status).to.equal(200);
    expect(api.seen.map((r) => r.token)).to.deep.equal([`${SCOPE}#1`, `${SCOPE}#2`]);
    expect(counting.fetches.map((f) => f.forceRefresh)).to.deep.equal([false, true]);
  });

  it('does not retry a 403 or a 500 by default: the caller gets it after one attempt', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    for (const status of [403, 500]) {
      api.state.statuses = [status];
      const error = (await instance.get(`/status/${status}`).catch((e: unknown) => e)) as AxiosError;
      expect(error.response?.status).to.equal(status);
    }
    expect(api.seen.map((r) => r.url)).to.deep.equal(['/status/403', '/status/500']);
    expect(counting.fetches.filter((f) => f.forceRefresh)).to.have.length(0);
  });

  it('takes retryOn as the whole list: with [403], a 401 is given back without a retry', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE, retryOn: [403] });
    api.state.statuses = [401];
    const error = (await instance.get('/things').catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).to.equal(401);
    expect(api.seen).to.have.length(1);
    expect(counting.fetches.filter((f) => f.forceRefresh)).to.have.length(0);
  });

  it('gives the caller the TokenError when the forced refresh fails, not the 401', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    await instance.get('/warm');
    api.refused.add(`${SCOPE}#1`);
    const failure = new TokenError('invalid_client', 'token request failed: 401 invalid_client', { status: 401 });
    counting.failOnce(failure);
    // Its own copy of the failure (the cache gives each caller its own error), not the 401.
    expect(await instance.get('/things').catch((e: unknown) => e))
      .to.be.instanceOf(TokenError)
      .and.include({ code: 'invalid_client', message: failure.message, status: 401 });
  });

  it('does not replay a stream body: the caller gets the 401', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    await instance.get('/warm');
    api.refused.add(`${SCOPE}#1`);
    const error = (await instance
      .post('/upload', Readable.from(['chunk-1', 'chunk-2']), { headers: { 'content-type': 'text/plain' } })
      .catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).to.equal(401);
    expect(api.seen.filter((r) => r.url === '/upload')).to.have.length(1);
    expect(counting.fetches).to.have.length(1);
  });

  it('does not serialise a body twice on the retry', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    await instance.get('/warm');
    api.refused.add(`${SCOPE}#1`);
    await instance.post('/json', { name: 'x', list: [1, 2] });
    // A transform that is not idempotent: running it on the already-sent body would nest the envelope.
    api.refused.add(`${SCOPE}#2`);
    await instance.post('/wrapped', { name: 'x' }, { transformRequest: [(data: unknown) => JSON.stringify({ envelope: data })] });
    const bodies = (url: string) => api.seen.filter((r) => r.url === url).map((r) => r.body);
    expect(bodies('/json')).to.deep.equal(['{"name":"x","list":[1,2]}', '{"name":"x","list":[1,2]}']);
    expect(bodies('/wrapped')).to.deep.equal(['{"envelope":{"name":"x"}}', '{"envelope":{"name":"x"}}']);
  });

  it("does not run the user's other interceptors twice for the retried request", async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    let requestRuns = 0;
    let responseRuns = 0;
    instance.interceptors.request.use((config) => {
      requestRuns += 1;
      return config;
    });
    instance.interceptors.response.use((response) => {
      responseRuns += 1;
      const data: unknown = response.data;
      return { ...response, data: { wrapped: data } }; // wrapping twice would nest the result
    });
    await instance.get('/warm');
    api.refused.add(`${SCOPE}#1`);
    requestRuns = responseRuns = 0;
    const { data } = await instance.get<{ wrapped: unknown }>('/things');
    expect(data.wrapped).to.include({ status: 200, token: `${SCOPE}#2` });
    expect([requestRuns, responseRuns]).to.deep.equal([1, 1]);
  });

  it('works beside axios-retry on the same instance', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    axiosRetry(instance, { retries: 2, retryDelay: () => 0, retryCondition: (e) => e.response?.status === 503 });
    await instance.get('/warm');
    api.refused.add(`${SCOPE}#1`);
    api.state.statuses = [503]; // then the refused token's 401, then the retry's 200
    const response = await instance.get('/things');
    expect(response.status).to.equal(200);
    expect(api.seen.slice(1).map((r) => r.token)).to.deep.equal([`${SCOPE}#1`, `${SCOPE}#1`, `${SCOPE}#2`]);
    expect(counting.fetches.filter((f) => f.forceRefresh)).to.have.length(1);
  });

  it('never retries twice even when axios-retry re-sends the retried request', async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    axiosRetry(instance, { retries: 3, retryDelay: () => 0, retryCondition: (e) => e.response?.status === 503 });
    api.state.requireToken = true;
    api.state.statuses = [401, 503, 401, 401, 401];
    const error = (await instance.get('/things').catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).to.equal(401);
    expect(api.seen).to.have.length(3); // 401, retry 503, axios-retry's re-send 401: no fourth
    expect(counting.fetches.filter((f) => f.forceRefresh)).to.have.length(1);
  });

  it("never retries twice when the user's own response interceptor re-sends the refused retry", async () => {
    attachToken(instance, { source: counting.source, scope: SCOPE });
    // Registered after attachToken: it sees the retry's 401 and re-sends that config through the instance.
    instance.interceptors.response.use(undefined, (error: AxiosError) => {
      const config = error.config as AxiosError['config'] & { resentByUser?: boolean };
      if (error.response?.status !== 401 || config?.resentByUser) throw error;
      return instance.request({ ...config, resentByUser: true } as never);
    });
    api.state.requireToken = true;
    api.state.statuses = [401, 401, 401, 401, 401];
    const error = (await instance.get('/things').catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).to.equal(401);
    // The first attempt, our one retry, the user's re-send (with the current token): no retry of that.
    expect(api.seen.map((r) => r.token)).to.deep.equal([`${SCOPE}#1`, `${SCOPE}#2`, `${SCOPE}#2`]);
    expect(counting.fetches.filter((f) => f.forceRefresh)).to.have.length(1);
  });

  for (const registrations of [2, 3]) {
    it(`retries at most once with tokenInterceptor() registered ${registrations} times on one instance`, async () => {
      for (let i = 0; i < registrations; i++) {
        const { request, responseError } = tokenInterceptor({ source: counting.source, scope: SCOPE });
        instance.interceptors.request.use(request);
        instance.interceptors.response.use(undefined, responseError);
      }
      api.state.requireToken = true;
      api.state.statuses = [401, 401, 401, 401, 401];
      const error = (await instance.get('/things').catch((e: unknown) => e)) as AxiosError;
      expect(error.response?.status).to.equal(401);
      expect(api.seen.map((r) => r.token)).to.deep.equal([`${SCOPE}#1`, `${SCOPE}#2`]);
      expect(counting.fetches.filter((f) => f.forceRefresh)).to.have.length(1);
    });
  }

  it('refuses a second attachToken on one instance, naming detach(); attaching again after detach() works', async () => {
    const detach = attachToken(instance, { source: counting.source, scope: SCOPE });
    expect(() => attachToken(instance, { source: counting.source, scope: SCOPE })).to.throw(
      TypeError,
      'axios-m2m: attachToken was already called on this instance: call the detach() function it returned before attaching again',
    );
    detach();
    attachToken(instance, { source: counting.source, scope: SCOPE });
    api.state.requireToken = true;
    api.state.statuses = [401, 401, 401];
    const error = (await instance.get('/things').catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).to.equal(401);
    expect(api.seen.map((r) => r.token)).to.deep.equal([`${SCOPE}#1`, `${SCOPE}#2`]);
    // Another instance is another matter.
    expect(() => attachToken(axios.create({ baseURL: api.url }), { source: counting.source, scope: SCOPE })).not.to.throw();
  });

  it('returns the 401 of an aborted request without a retry', async () => {
    const { responseError } = tokenInterceptor({ source: counting.source, scope: SCOPE });
    const controller = new AbortController();
    instance.interceptors.request.use(tokenInterceptor({ source: counting.source, scope: SCOPE }).request);
    instance.interceptors.response.use(undefined, (error: unknown) => {
      controller.abort(); // the caller gave up while the 401 was on its way
      return responseError(error);
    });
    api.state.statuses = [401];
    const error = (await instance.get('/things', { signal: controller.signal }).catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).to.equal(401);
    expect(api.seen).to.have.length(1);
  });

  it("rejects as axios's own cancellations do when the caller aborts while waiting for a token", async () => {
    let release!: (token: AccessToken) => void;
    const slow = withCache(() => new Promise<AccessToken>((resolve) => (release = resolve)));
    attachToken(instance, { source: slow, scope: SCOPE });
    const controller = new AbortController();
    const aborted = instance.get('/a', { signal: controller.signal }).catch((e: unknown) => e);
    const other = instance.get<{ token: string }>('/b');
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect(axios.isCancel(await aborted)).to.equal(true);
    release({ token: 'shared', expiresAt: Date.now() + 60_000 });
    expect((await other).data.token).to.equal('shared');
  });

  it('passes a TokenError from the source to the caller unchanged', async () => {
    const failure = new TokenError('invalid_scope', 'token request for x failed: 400 invalid_scope');
    attachToken(instance, { source: { getToken: () => Promise.reject(failure) }, scope: SCOPE });
    expect(await instance.get('/things').catch((e: unknown) => e)).to.equal(failure);
    expect(api.seen).to.have.length(0);
  });

  it('removes both interceptors with the function it returns', async () => {
    const detach = attachToken(instance, { source: counting.source, scope: SCOPE });
    detach();
    detach(); // twice is harmless
    api.state.statuses = [401];
    const error = (await instance.get('/things').catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).to.equal(401);
    expect(api.seen.map((r) => r.token)).to.deep.equal([undefined]);
  });

  it('gives no token to an absolute URL of another origin than the baseURL, unless allowed', async () => {
    const other = await startRecordingApi();
    try {
      attachToken(instance, { source: counting.source, scope: SCOPE });
      await instance.get(`${other.url}/elsewhere`);
      await instance.get(`${api.url}/same-origin`);
      expect(other.seen[0]!.token).to.equal(undefined);
      expect(api.seen[0]!.token).to.equal(`${SCOPE}#1`);
      const allowed = axios.create({ baseURL: api.url });
      attachToken(allowed, { source: counting.source, scope: SCOPE, origins: [other.url] });
      await allowed.get(`${other.url}/allowed`);
      expect(other.seen[1]!.token).to.equal(`${SCOPE}#1`);
    } finally {
      await other.close();
    }
  });

  it('checks its options at once', () => {
    expect(() => attachToken(instance, { source: {} as never, scope: SCOPE })).to.throw(TypeError, /source/);
    expect(() => attachToken(instance, { source: counting.source, scope: 42 as never })).to.throw(TypeError, /scope/);
    expect(() => attachToken(instance, { source: counting.source, origins: ['not a url'] })).to.throw(TypeError, /origins/);
    expect(() => attachToken({} as never, { source: counting.source })).to.throw(TypeError, /axios instance/);
  });
});

describe('the request option token: false, undefined/null, or { scope?: string }; anything else is refused', () => {
  let api: Awaited<ReturnType<typeof startRecordingApi>>;
  let counting: ReturnType<typeof countingSource>;
  let instance: AxiosInstance;

  before(async () => {
    api = await startRecordingApi();
  });
  after(() => api.close());
  beforeEach(() => {
    api.seen.length = 0;
    counting = countingSource();
    instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: counting.source, scope: SCOPE });
  });

  const refused: [string, unknown, string][] = [
    [
      'a string (not a shorthand for { scope })',
      'api://x/.default',
      'axios-m2m: expected the request option token to be false, undefined or { scope: string }, got "api://x/.default": a scope goes in an object, token: { scope: "api://x/.default" }',
    ],
    ['0', 0, 'axios-m2m: expected the request option token to be false, undefined or { scope: string }, got number 0'],
    ['true', true, 'axios-m2m: expected the request option token to be false, undefined or { scope: string }, got boolean true'],
    ['an array', ['api://x/.default'], 'axios-m2m: expected the request option token to be false, undefined or { scope: string }, got an array'],
    [
      '{ scope: null }',
      { scope: null },
      'axios-m2m: expected the request option token.scope to be a non-empty string, got null: leave scope out for the default scope, or write token: false for no token',
    ],
    [
      '{ scope: 42 }',
      { scope: 42 },
      'axios-m2m: expected the request option token.scope to be a non-empty string, got number 42: leave scope out for the default scope, or write token: false for no token',
    ],
    [
      "{ scope: '' }",
      { scope: '' },
      'axios-m2m: expected the request option token.scope to be a non-empty string, got "": leave scope out for the default scope, or write token: false for no token',
    ],
  ];
  for (const [name, value, message] of refused) {
    it(`rejects ${name} with a TypeError before anything is sent, and fetches no token`, async () => {
      const error = await instance.get('/things', { token: value as never }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TypeError).with.property('message', message);
      expect(api.seen).to.deep.equal([]);
      expect(counting.fetches).to.deep.equal([]);
    });
  }

  it('rejects a wrong token in the instance config the same way, for every request', async () => {
    const wrong = axios.create({ baseURL: api.url, token: 'api://x/.default' as never });
    attachToken(wrong, { source: counting.source, scope: SCOPE });
    const error = await wrong.get('/things').catch((e: unknown) => e);
    expect(error)
      .to.be.instanceOf(TypeError)
      .with.property('message')
      .that.matches(/^axios-m2m: expected the request option token to be/);
    expect(api.seen).to.deep.equal([]);
  });

  it('shortens a long value in the message', async () => {
    const error = (await instance.get('/things', { token: 'x'.repeat(100_000) as never }).catch((e: unknown) => e)) as TypeError;
    expect(error).to.be.instanceOf(TypeError);
    expect(error.message.length).to.be.below(300);
  });

  it('takes undefined and null as "no scope of its own": the default scope', async () => {
    await instance.get('/a', { token: undefined });
    await instance.get('/b', { token: null });
    await instance.get('/c', { token: {} });
    expect(api.seen.map((r) => r.token)).to.deep.equal([`${SCOPE}#1`, `${SCOPE}#1`, `${SCOPE}#1`]);
  });

  it('rejects a scope function that returns something other than a string or undefined', async () => {
    const mapped = axios.create({ baseURL: api.url });
    attachToken(mapped, { source: counting.source, scope: () => 42 as never });
    const error = await mapped.get('/things').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TypeError).with.property('message', 'axios-m2m: expected the scope function to return a non-empty string or undefined, got number 42');
    expect(api.seen).to.deep.equal([]);
  });
});
