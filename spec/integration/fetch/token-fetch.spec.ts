import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withCache } from '../../../lib/cache/with-cache.js';
import { TokenError, isTokenError } from '../../../lib/errors.js';
import { tokenFetch } from '../../../lib/fetch/token-fetch.js';
import type { AccessToken, GetTokenOptions } from '../../../lib/types.js';
import { startRecordingApi } from '../../support/recording-api.js';

const SCOPE = 'api://dev-gcp.team.api/.default';

/** A cached source over a fetch that numbers its tokens per scope and records its calls. */
function countingSource({ delay = () => new Promise<void>((resolve) => setImmediate(resolve)) } = {}) {
  const fetches: { scope: string; forceRefresh: boolean }[] = [];
  let failNext: TokenError | undefined;
  const source = withCache(async (scope: string, options: GetTokenOptions): Promise<AccessToken> => {
    await delay();
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

/** Answers every request with a redirect to `location()`, recording whether it had a token. */
async function startRedirector(location: () => string, status = 302) {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(status, { location: location() });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('tokenFetch({ source, scope, origins })', () => {
  let api: Awaited<ReturnType<typeof startRecordingApi>>;
  let other: Awaited<ReturnType<typeof startRecordingApi>>;
  let counting: ReturnType<typeof countingSource>;

  before(async () => {
    [api, other] = await Promise.all([startRecordingApi(), startRecordingApi()]);
  });
  after(() => Promise.all([api.close(), other.close()]));
  beforeEach(() => {
    for (const server of [api, other]) {
      server.seen.length = 0;
      server.refused.clear();
      server.state.statuses = [];
    }
    counting = countingSource();
  });

  const fetchApi = (options: Partial<Parameters<typeof tokenFetch>[0]> = {}) => tokenFetch({ source: counting.source, scope: SCOPE, origins: [api.url], ...options });

  describe('where the token goes', () => {
    it('sets Authorization: Bearer with a token for the scope, on a URL, a string and a Request', async () => {
      const send = fetchApi();
      await send(`${api.url}/a`);
      await send(new URL('/b', api.url));
      await send(new Request(`${api.url}/c`));
      expect(api.seen.map((r) => [r.url, r.token])).to.deep.equal([
        ['/a', `${SCOPE}#1`],
        ['/b', `${SCOPE}#1`],
        ['/c', `${SCOPE}#1`],
      ]);
    });

    it('needs origins: a TypeError at creation without them', () => {
      expect(() => tokenFetch({ source: counting.source, scope: SCOPE } as never)).to.throw(TypeError, /tokenFetch needs to know where the token may go/);
      expect(() => tokenFetch({ source: counting.source, scope: SCOPE, origins: [] })).to.throw(TypeError, /origins/);
      expect(() => tokenFetch({ source: counting.source, scope: SCOPE, origins: ['not a url'] })).to.throw(TypeError, /absolute http\(s\) URLs/);
    });

    it('sends a request to an origin not in origins as it is: no token, its own headers kept', async () => {
      const response = await fetchApi()(`${other.url}/elsewhere`, { headers: { Authorization: 'Basic theirs', 'x-kept': '1' } });
      expect(response.status).to.equal(200);
      expect(other.seen[0]!.token).to.equal(undefined);
      expect(counting.fetches).to.have.length(0);
    });

    it('takes init.token.scope over the scope option, and a scope function of the URL over nothing', async () => {
      const byPath = fetchApi({ scope: (url) => (url.pathname.startsWith('/admin') ? 'api://admin/.default' : undefined) });
      await byPath(`${api.url}/admin/x`);
      await byPath(`${api.url}/y`, { token: { scope: 'api://request/.default' } });
      expect(api.seen.map((r) => r.token)).to.deep.equal(['api://admin/.default#1', 'api://request/.default#2']);
      const error = await byPath(`${api.url}/nothing`).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TypeError);
      expect((error as Error).message).to.equal('axios-m2m: no scope for GET /nothing: give tokenFetch a scope, or the request init token: { scope }');
    });

    it('sends a request with token: false with its own Authorization, and refuses a token option that is not one', async () => {
      await fetchApi()(`${api.url}/own`, { token: false, headers: { Authorization: 'Bearer users-own' } });
      expect(api.seen[0]!.token).to.equal('users-own');
      for (const option of ['api://x/.default', true, 0, { scope: '' }]) {
        const error = await fetchApi()(`${api.url}/bad`, { token: option as never }).catch((e: unknown) => e);
        expect(error, JSON.stringify(option)).to.be.instanceOf(TypeError);
      }
      expect(api.seen).to.have.length(1);
    });

    it("replaces the request's own Authorization, keeps its other headers, and passes no `token` on to fetch", async () => {
      const inits: (RequestInit | undefined)[] = [];
      const send = fetchApi({ fetch: (input, init) => (inits.push(init), fetch(input, init)) });
      await send(`${api.url}/h`, { headers: { Authorization: 'Basic dXNlcjpwYXNz', 'content-type': 'text/plain' }, method: 'POST', body: 'x', token: { scope: SCOPE } });
      expect(api.seen[0]).to.include({ token: `${SCOPE}#1`, contentType: 'text/plain', body: 'x', method: 'POST' });
      expect(inits[0]).to.not.have.property('token');
    });

    it('drops the token on a redirect to another origin (the runtime fetch strips it), and keeps it on the same origin', async () => {
      const cross = await startRedirector(() => `${other.url.replace('127.0.0.1', 'localhost')}/landed`);
      const same = await startRedirector(() => `${same.url}/again`);
      try {
        const send = tokenFetch({ source: counting.source, scope: SCOPE, origins: [cross.url, same.url] });
        const response = await send(`${cross.url}/start`);
        expect(response.status).to.equal(200);
        expect(cross.seen).to.deep.equal([`Bearer ${SCOPE}#1`]);
        expect(other.seen.map((r) => [r.url, r.token])).to.deep.equal([['/landed', undefined]]);
        // A same-origin redirect loop: fetch follows 20 hops with the header, then fails.
        await send(`${same.url}/start`).catch(() => undefined);
        expect(same.seen[1]).to.equal(`Bearer ${SCOPE}#1`);
      } finally {
        await Promise.all([cross.close(), same.close()]);
      }
    });
  });

  describe('one retry when the token is refused', () => {
    it('answers a 401 with one forced refresh and one retry, never a second', async () => {
      api.refused.add(`${SCOPE}#1`);
      const response = await fetchApi()(`${api.url}/things`);
      expect(response.status).to.equal(200);
      expect(api.seen.map((r) => r.token)).to.deep.equal([`${SCOPE}#1`, `${SCOPE}#2`]);
      expect(counting.fetches.map((f) => f.forceRefresh)).to.deep.equal([false, true]);

      api.state.statuses = [401, 401, 401];
      const refused = await fetchApi()(`${api.url}/always`);
      expect(refused.status).to.equal(401);
      expect(api.seen.slice(2).map((r) => r.url)).to.deep.equal(['/always', '/always']);
    });

    it('retries on the statuses in retryOn only', async () => {
      api.state.statuses = [403];
      expect((await fetchApi({ retryOn: [403] })(`${api.url}/a`)).status).to.equal(200);
      api.state.statuses = [401];
      expect((await fetchApi({ retryOn: [403] })(`${api.url}/b`)).status).to.equal(401);
      expect(api.seen.map((r) => r.url)).to.deep.equal(['/a', '/a', '/b']);
    });

    for (const [name, body] of [
      ['a string', () => 'plain text'],
      ['URLSearchParams', () => new URLSearchParams({ a: '1', b: '2' })],
      ['a Blob', () => new Blob(['blob body'], { type: 'text/plain' })],
      ['an ArrayBuffer', () => new TextEncoder().encode('bytes body').buffer],
      ['a Uint8Array', () => new TextEncoder().encode('view body')],
      [
        'FormData',
        () => {
          const form = new FormData();
          form.append('field', 'value');
          return form;
        },
      ],
    ] as const) {
      it(`sends ${name} body again on the retry, the same bytes`, async () => {
        api.refused.add(`${SCOPE}#1`);
        const response = await fetchApi()(`${api.url}/post`, { method: 'POST', body: body() });
        expect(response.status).to.equal(200);
        expect(api.seen).to.have.length(2);
        const [first, second] = api.seen as [(typeof api.seen)[0], (typeof api.seen)[0]];
        // A FormData body is written with a new multipart boundary each time: compare without it.
        const unbounded = (text: string) => text.replace(/-+\S+/g, '');
        expect(unbounded(second.body)).to.equal(unbounded(first.body)).and.not.equal('');
      });
    }

    it('gives a 401 to a request with a stream body as it came, without a retry (the stream is spent)', async () => {
      api.refused.add(`${SCOPE}#1`);
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('streamed'));
          controller.close();
        },
      });
      const response = await fetchApi()(`${api.url}/stream`, { method: 'POST', body: stream, duplex: 'half' });
      expect(response.status).to.equal(401);
      expect(api.seen.map((r) => r.body)).to.deep.equal(['streamed']);
      expect(counting.fetches).to.have.length(1);
    });

    it('gives a 401 to a Request with a body as it came (its body is a stream)', async () => {
      api.refused.add(`${SCOPE}#1`);
      const response = await fetchApi()(new Request(`${api.url}/req`, { method: 'PUT', body: 'inside' }));
      expect(response.status).to.equal(401);
      expect(api.seen).to.have.length(1);
    });

    it('retries a bodyless Request once with the new token', async () => {
      api.refused.add(`${SCOPE}#1`);
      const response = await fetchApi()(new Request(`${api.url}/req`, { headers: { 'x-mine': 'yes' } }));
      expect(response.status).to.equal(200);
      expect(api.seen.map((r) => r.token)).to.deep.equal([`${SCOPE}#1`, `${SCOPE}#2`]);
    });

    it('answers 1,000 concurrent 401s for one token with ONE refresh, and each request is retried once', async function () {
      this.timeout(60_000);
      api.refused.add(`${SCOPE}#1`);
      const send = fetchApi();
      const responses = await Promise.all(Array.from({ length: 1000 }, (_, i) => send(`${api.url}/storm/${i}`)));
      expect(responses.every((r) => r.status === 200)).to.equal(true);
      expect(counting.fetches.map((f) => f.forceRefresh)).to.deep.equal([false, true]);
      expect(api.seen).to.have.length(2000);
      const perPath = new Map<string, number>();
      for (const r of api.seen) perPath.set(r.url, (perPath.get(r.url) ?? 0) + 1);
      expect([...perPath.values()].every((n) => n === 2)).to.equal(true);
    });

    it("gives the caller the refresh's TokenError, not the 401, when the refresh fails", async () => {
      await fetchApi()(`${api.url}/warm`);
      api.refused.add(`${SCOPE}#1`);
      counting.failOnce(new TokenError('invalid_client', 'token request failed: 401 invalid_client', { status: 401 }));
      const error = await fetchApi()(`${api.url}/x`).catch((e: unknown) => e);
      expect(isTokenError(error)).to.equal(true);
      expect(error).to.include({ code: 'invalid_client' });
    });

    it('does not retry a request whose caller aborted', async () => {
      api.refused.add(`${SCOPE}#1`);
      const controller = new AbortController();
      const send = fetchApi({
        fetch: async (input, init) => {
          const r = await fetch(input, init);
          controller.abort();
          return r;
        },
      });
      const response = await send(`${api.url}/aborted`, { signal: controller.signal });
      expect(response.status).to.equal(401);
      expect(api.seen).to.have.length(1);
    });

    it('publishes axios-m2m:request:retry with the scope, status, method and path (no query)', async () => {
      const events: unknown[] = [];
      const listener = (message: unknown) => events.push(message);
      diagnosticsChannel.subscribe('axios-m2m:request:retry', listener);
      try {
        api.refused.add(`${SCOPE}#1`);
        await fetchApi()(`${api.url}/evented?secret=1`, { method: 'delete' });
      } finally {
        diagnosticsChannel.unsubscribe('axios-m2m:request:retry', listener);
      }
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ scope: SCOPE, status: 401, method: 'DELETE', path: '/evented', refreshed: true });
    });
  });

  describe('each caller its own wait and its own error', () => {
    it("ends only the aborting caller's wait for a token; the other gets its response", async () => {
      let release!: () => void;
      const slow = countingSource({ delay: () => new Promise<void>((resolve) => (release = resolve)) });
      const send = tokenFetch({ source: slow.source, scope: SCOPE, origins: [api.url] });
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      const aborted = send(`${api.url}/a`, { signal: controller.signal }).catch((e: unknown) => e);
      const waiting = send(`${api.url}/b`);
      await new Promise((resolve) => setImmediate(resolve));
      controller.abort(reason);
      expect(await aborted).to.equal(reason);
      release();
      expect((await waiting).status).to.equal(200);
      expect(api.seen.map((r) => r.url)).to.deep.equal(['/b']);
    });

    it('gives every caller of a failed token fetch its own error object', async () => {
      counting.failOnce(new TokenError('temporarily_unavailable', 'token request failed: 503', { status: 503 }));
      const errors = await Promise.all([1, 2, 3].map((i) => fetchApi()(`${api.url}/${i}`).catch((e: unknown) => e)));
      expect(errors.every((e) => isTokenError(e) && e.code === 'temporarily_unavailable')).to.equal(true);
      expect(new Set(errors).size).to.equal(3);
      expect(api.seen).to.have.length(0);
    });
  });
});
