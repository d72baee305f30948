import axios, { type AxiosError, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { withCache } from '../../../lib/cache/with-cache.js';
import { TokenError, isTokenError } from '../../../lib/errors.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { honoursAllowAbsoluteUrls } from '../../../lib/interceptor/old-axios.js';
import { tokenInterceptor } from '../../../lib/interceptor/token-interceptor.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { texas } from '../../../lib/sources/texas.js';
import { startRecordingApi } from '../../support/recording-api.js';

// Where a token may go besides the API it is for: redirects, other origins, plain http.

const SCOPE = 'api://dev-gcp.team.api/.default';

describe('where tokens go', () => {
  let api: Server;
  let other: Server;
  const seenByOther: (string | undefined)[] = [];
  const url = (server: Server, host = '127.0.0.1') => `http://${host}:${(server.address() as AddressInfo).port}`;
  const source = withCache(async () => ({ token: 'the-token', expiresAt: Date.now() + 3_600_000 }));

  before(async () => {
    nock.restore();
    other = createServer((req, res) => {
      seenByOther.push(req.headers.authorization);
      res.end('{}');
    });
    api = createServer((req, res) => {
      if (req.url === '/redirect-away') {
        res.writeHead(302, { location: `${url(other)}/landing` });
        return res.end();
      }
      if (req.url === '/redirect-home') {
        res.writeHead(302, { location: '/home' });
        return res.end();
      }
      if (req.url === '/redirect-sub') {
        // To a subdomain of the API's host on the same port: follow-redirects keeps the header there.
        res.writeHead(302, { location: `http://evil.api.test:${(api.address() as AddressInfo).port}/landing` });
        return res.end();
      }
      if (req.url === '/landing') {
        seenByOther.push(req.headers.authorization);
        return res.end('{}');
      }
      if (req.url === '/refuse') {
        res.writeHead(401);
        return res.end();
      }
      res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
    });
    for (const server of [api, other]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const server of [api, other]) await new Promise<void>((resolve) => server.close(() => resolve()));
    nock.activate();
  });
  beforeEach(() => (seenByOther.length = 0));

  it("does not carry the token through a redirect to another origin (Node's http adapter strips it)", async () => {
    const instance = axios.create({ baseURL: url(api) });
    attachToken(instance, { source, scope: SCOPE });
    await instance.get('/redirect-away');
    expect(seenByOther).to.deep.equal([undefined]);
  });

  it('does not carry the token through a redirect to a subdomain of the API host (another origin)', async () => {
    // *.test resolves to the loopback server here; follow-redirects alone would keep the header,
    // as it treats a subdomain as trusted.
    const lookup = (_host: string, _options: object, callback: (e: null, address: string, family: number) => void) => callback(null, '127.0.0.1', 4);
    const instance = axios.create({ baseURL: `http://api.test:${(api.address() as AddressInfo).port}`, lookup: lookup as never });
    attachToken(instance, { source, scope: SCOPE });
    await instance.get('/redirect-sub');
    expect(seenByOther).to.deep.equal([undefined]);
  });

  it('leaves the token off every hop to another origin itself, whatever follow-redirects or axios would keep', async () => {
    // The hook the http adapter calls before each hop, driven directly: newer axios strips the header
    // on its own, so the redirect above cannot tell whether ours does.
    const seen: InternalAxiosRequestConfig[] = [];
    const instance = axios.create({
      baseURL: 'https://api.example',
      adapter: async (config) => (seen.push(config), { data: {}, status: 200, statusText: 'OK', headers: {}, config }),
    });
    attachToken(instance, { source, scope: SCOPE });
    await instance.get('/x');
    const hop = (href: string) => {
      const options = { href, headers: { Authorization: 'Bearer the-token', accept: 'application/json' } };
      (seen[0]!.beforeRedirect as (o: object, r: object) => void)(options, { headers: {}, statusCode: 302 });
      return options.headers;
    };
    expect(hop('https://api.example/elsewhere')).to.have.property('Authorization', 'Bearer the-token');
    for (const away of ['https://evil.api.example/', 'http://api.example/', 'https://api.example:8443/', 'https://example/']) {
      expect(hop(away), away).to.deep.equal({ accept: 'application/json' });
    }
  });

  it('guards each origin by its own: hooks shared between requests never mix up two APIs', async () => {
    const seen: InternalAxiosRequestConfig[] = [];
    const adapter = async (config: InternalAxiosRequestConfig) => (seen.push(config), { data: {}, status: 200, statusText: 'OK', headers: {}, config });
    for (const baseURL of ['https://a.example', 'https://b.example', 'https://a.example']) {
      const instance = axios.create({ baseURL, adapter });
      attachToken(instance, { source, scope: SCOPE });
      await instance.get('/x');
    }
    const keeps = (config: InternalAxiosRequestConfig, href: string) => {
      const options = { href, headers: { authorization: 'Bearer the-token' } };
      (config.beforeRedirect as (o: object, r: object) => void)(options, { headers: {}, statusCode: 302 });
      return 'authorization' in options.headers;
    };
    expect(seen.map((c) => [keeps(c, 'https://a.example/next'), keeps(c, 'https://b.example/next')])).to.deep.equal([
      [true, false],
      [false, true],
      [true, false],
    ]);
  });

  it("still calls the caller's own beforeRedirect, once, when a config passes the interceptor twice", async () => {
    const calls: string[] = [];
    const seen: InternalAxiosRequestConfig[] = [];
    const instance = axios.create({
      baseURL: 'https://api.example',
      beforeRedirect: (options) => calls.push(options.href as string),
      adapter: async (config) => (seen.push(config), { data: {}, status: 200, statusText: 'OK', headers: {}, config }),
    });
    attachToken(instance, { source, scope: SCOPE });
    await instance.get('/x');
    await instance.request(seen[0]!); // as axios-retry re-sends a config
    (seen[1]!.beforeRedirect as (o: object, r: object) => void)({ href: 'https://evil.example/', headers: {} }, { headers: {}, statusCode: 302 });
    expect(calls).to.deep.equal(['https://evil.example/']);
  });

  it('keeps the token on a redirect within the same origin', async () => {
    const instance = axios.create({ baseURL: url(api) });
    attachToken(instance, { source, scope: SCOPE });
    const { data } = await instance.get<unknown>('/redirect-home');
    expect(data).to.deep.equal({ authorization: 'Bearer the-token' });
  });

  it('gives no token to an absolute URL of another origin, unless allowed', async () => {
    const instance = axios.create({ baseURL: url(api) });
    attachToken(instance, { source, scope: SCOPE });
    await instance.get(`${url(other)}/x`);
    await instance.get(`${url(other, 'localhost')}/x`); // another host name is another origin too
    expect(seenByOther).to.deep.equal([undefined, undefined]);
    const allowed = axios.create({ baseURL: url(api) });
    attachToken(allowed, { source, scope: SCOPE, origins: [url(other)] });
    await allowed.get(`${url(other)}/x`);
    expect(seenByOther[2]).to.equal('Bearer the-token');
  });

  describe("the caller's own Authorization: the token replaces it; token: false sends it", () => {
    const echoed = async (request: Promise<{ data: { authorization: string | null } }>) => (await request).data.authorization;

    it('replaces a Basic header set per request, and one in the instance defaults', async () => {
      const instance = axios.create({ baseURL: url(api), headers: { Authorization: 'Basic aW5zdGFuY2U6ZGVmYXVsdA==' } });
      attachToken(instance, { source, scope: SCOPE });
      expect(await echoed(instance.get('/x'))).to.equal('Bearer the-token');
      expect(await echoed(instance.get('/x', { headers: { Authorization: 'Basic dXNlcjpwYXNz' } }))).to.equal('Bearer the-token');
      expect(await echoed(instance.get('/x', { headers: { authorization: 'Bearer its-own' } }))).to.equal('Bearer the-token');
      expect(await echoed(instance.get('/x', { headers: { Authorization: false } }))).to.equal('Bearer the-token');
    });

    it("replaces axios's auth option (Basic), which would otherwise make the http adapter drop the token", async () => {
      const instance = axios.create({ baseURL: url(api) });
      attachToken(instance, { source, scope: SCOPE });
      expect(await echoed(instance.get('/x', { auth: { username: 'user', password: 'pass' } }))).to.equal('Bearer the-token');
    });

    it('keeps the Authorization of a request sent with token: false', async () => {
      const instance = axios.create({ baseURL: url(api), headers: { Authorization: 'Basic aW5zdGFuY2U6ZGVmYXVsdA==' } });
      attachToken(instance, { source, scope: SCOPE });
      expect(await echoed(instance.get('/x', { token: false, headers: { Authorization: 'Basic dXNlcjpwYXNz' } }))).to.equal('Basic dXNlcjpwYXNz');
      expect(await echoed(instance.get('/x', { token: false }))).to.equal('Basic aW5zdGFuY2U6ZGVmYXVsdA==');
      expect(await echoed(instance.get('/x', { token: false, auth: { username: 'user', password: 'pass' } }))).to.equal('Basic dXNlcjpwYXNz');
    });
  });

  it("keeps the refreshed bearer out of axios's error for a request the retry did not cure (a note in its place)", async () => {
    let minted = 0;
    const counting = withCache(async () => ({ token: `token-${(minted += 1)}`, expiresAt: Date.now() + 3_600_000 }));
    const instance = axios.create({ baseURL: url(api) });
    attachToken(instance, { source: counting, scope: SCOPE });
    const error = (await instance.get('/refuse').catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).to.equal(401);
    // The final 401 is the retry's: its config holds the refreshed bearer, which was refused too.
    expect(minted).to.equal(2);
    expect(error.config?.headers.Authorization).to.match(/^Bearer \[redacted by axios-m2m: sha256 [0-9a-f]{8}, scope /);
    expect(JSON.stringify(error)).to.not.include('token-2');
  });

  it('refuses a plain-http token endpoint that is not loopback, unless allowInsecure', () => {
    for (const make of [
      () => texas({ endpoint: 'http://texas.example/api/v1/token' }),
      () => clientCredentials({ tokenEndpoint: 'http://login.example/t/token', clientId: 'c', clientSecret: 's' }),
    ]) {
      expect(make)
        .to.throw(TokenError, /plain http/)
        .with.property('code', 'configuration');
    }
    expect(() => clientCredentials({ tokenEndpoint: 'http://login.example/t/token', clientId: 'c', clientSecret: 's', allowInsecure: true })).to.not.throw();
    for (const endpoint of ['http://127.0.0.1:7164/api/v1/token', 'http://localhost:7164/api/v1/token', 'http://[::1]:7164/api/v1/token']) {
      expect(() => texas({ endpoint })).to.not.throw();
    }
  });
});

describe("a token goes only to an origin the user named: the baseURL's, or one in origins", () => {
  let api: Awaited<ReturnType<typeof startRecordingApi>>;
  let other: Awaited<ReturnType<typeof startRecordingApi>>;
  let minted: number;
  const source = withCache(async () => ({ token: `token-${(minted += 1)}`, expiresAt: Date.now() + 3_600_000 }));

  before(async () => {
    nock.restore();
    api = await startRecordingApi();
    other = await startRecordingApi();
  });
  after(async () => {
    await api.close();
    await other.close();
    nock.activate();
  });
  beforeEach(() => {
    minted = 0;
    source.clear();
    for (const server of [api, other]) {
      server.seen.length = 0;
      server.state.statuses = [];
      server.state.requireToken = false;
    }
  });

  /** An instance whose adapter records what would be sent, for URLs no server answers. */
  function recording(defaults: Parameters<typeof axios.create>[0] = {}) {
    const sent: { url: string; authorization: unknown }[] = [];
    const instance = axios.create({
      ...defaults,
      adapter: async (config) => {
        sent.push({ url: String(config.url), authorization: config.headers.get('Authorization') });
        return { data: {}, status: 200, statusText: 'OK', headers: {}, config };
      },
    });
    return { instance, sent };
  }

  // A TypeError, as attachToken's refusal of an instance that names no host: the same mistake.
  const configurationError = async (request: Promise<unknown>) => {
    const error = await request.then(
      () => expect.fail('the request was sent'),
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(TypeError);
    expect(error).to.not.satisfy(isTokenError);
    return (error as TypeError).message.replace(/^axios-m2m: /, '');
  };

  describe('attachToken on an instance that names no host', () => {
    it("refuses axios's default export at once, saying what to pass, and leaves it untouched", async () => {
      const before = [axios.interceptors.request, axios.interceptors.response].map((m) => (m as unknown as { handlers: unknown[] }).handlers.length);
      expect(() => attachToken(axios, { source, scope: SCOPE })).to.throw(
        TypeError,
        "axios-m2m: attachToken needs to know where the token may go, and this instance has no baseURL: attach to axios.create({ baseURL: 'https://api.example' }) (never axios's default export, which every library shares), or pass origins: ['https://api.example']",
      );
      expect([axios.interceptors.request, axios.interceptors.response].map((m) => (m as unknown as { handlers: unknown[] }).handlers.length)).to.deep.equal(before);
      // The scenario: some other code in the process calls a third party through the default instance.
      await axios.get(`${other.url}/third-party`);
      expect(other.seen.map((r) => r.token)).to.deep.equal([undefined]);
      expect(minted).to.equal(0);
    });

    it('refuses an instance created without a baseURL, unless origins are given', () => {
      expect(() => attachToken(axios.create(), { source, scope: SCOPE })).to.throw(TypeError, /has no baseURL/);
      expect(() => attachToken(axios.create({ baseURL: '' }), { source, scope: SCOPE })).to.throw(TypeError, /has no baseURL/);
      expect(() => attachToken(axios.create(), { source, scope: SCOPE, origins: [] })).to.throw(TypeError, /has no baseURL/);
      expect(() => attachToken(axios.create(), { source, scope: SCOPE, origins: [other.url] })).not.to.throw();
    });
  });

  describe('an instance without a baseURL, with origins (one client for several hosts)', () => {
    it('gives the token to the listed origins, with a scope function mapping URLs to scopes', async () => {
      const instance = axios.create();
      const scopes: string[] = [];
      attachToken(instance, {
        source,
        origins: [api.url, other.url],
        scope: (config) => {
          const scope = config.url?.startsWith(other.url) ? 'api://other/.default' : 'api://api/.default';
          scopes.push(scope);
          return scope;
        },
      });
      await instance.get(`${api.url}/a`);
      await instance.get(`${other.url}/b`);
      expect(api.seen.map((r) => r.token)).to.deep.equal(['token-1']);
      expect(other.seen.map((r) => r.token)).to.deep.equal(['token-2']); // its own scope, its own token
      expect(scopes).to.deep.equal(['api://api/.default', 'api://other/.default']);
    });

    it('fails a request to an origin not listed with a TypeError naming it, and sends nothing', async () => {
      const instance = axios.create();
      attachToken(instance, { source, scope: SCOPE, origins: [api.url] });
      const message = await configurationError(instance.get(`${other.url}/elsewhere?secret=1`));
      expect(message).to.equal(
        `no token for GET ${other.url}/elsewhere: it goes to ${other.url}, which is neither the baseURL's origin nor in origins; ` +
          'use axios.create({ baseURL }), list the origin in origins, or send this request with token: false',
      );
      expect(other.seen).to.deep.equal([]);
      expect(minted).to.equal(0);
      await instance.get(`${other.url}/public`, { token: false }); // the way to call it without a token
      expect(other.seen.map((r) => [r.url, r.token])).to.deep.equal([['/public', undefined]]);
    });

    it('fails a relative URL (its origin cannot be told) and a protocol-relative one', async () => {
      const { instance, sent } = recording();
      attachToken(instance, { source, scope: SCOPE, origins: ['https://api.example'] });
      expect(await configurationError(instance.get('/relative'))).to.match(/^no token for GET \/relative: it goes to a URL whose origin cannot be told/);
      expect(await configurationError(instance.get('//api.example/x'))).to.match(/^no token for GET \/\/api.example\/x: it goes to a URL whose origin/);
      expect(sent).to.deep.equal([]);
    });

    it('takes a per-request baseURL as named', async () => {
      const instance = axios.create();
      attachToken(instance, { source, scope: SCOPE, origins: [api.url] });
      await instance.get('/named-by-request', { baseURL: other.url });
      expect(other.seen.map((r) => r.token)).to.deep.equal(['token-1']);
    });
  });

  describe('tokenInterceptor() registered by hand, or a baseURL removed later', () => {
    it('fails each request of an instance without a baseURL or origins with a TokenError naming the origin', async () => {
      const instance = axios.create();
      const { request, responseError } = tokenInterceptor({ source, scope: SCOPE });
      instance.interceptors.request.use(request);
      instance.interceptors.response.use(undefined, responseError);
      const message = await configurationError(instance.get(`${other.url}/x`));
      expect(message).to.match(new RegExp(`^no token for GET ${other.url}/x: it goes to ${other.url}, which is neither`));
      expect(other.seen).to.deep.equal([]);
      expect(minted).to.equal(0);
    });

    it('fails requests once the baseURL is removed from the instance', async () => {
      const instance = axios.create({ baseURL: api.url });
      attachToken(instance, { source, scope: SCOPE });
      await instance.get('/before');
      delete instance.defaults.baseURL;
      await configurationError(instance.get(`${other.url}/after`));
      await configurationError(instance.get('/after'));
      expect(api.seen.map((r) => [r.url, r.token])).to.deep.equal([['/before', 'token-1']]);
      expect(other.seen).to.deep.equal([]);
    });

    it('fails requests when the baseURL does not parse', async () => {
      const { instance, sent } = recording({ baseURL: 'api.example/v1' });
      attachToken(instance, { source, scope: SCOPE });
      expect(await configurationError(instance.get('/x'))).to.match(/it goes to a URL whose origin cannot be told/);
      expect(sent).to.deep.equal([]);
    });
  });

  describe('absolute, protocol-relative and per-request baseURL URLs, resolved as axios resolves them', () => {
    it('sends an absolute URL of another origin without the token (silently: the baseURL names where it goes)', async () => {
      const instance = axios.create({ baseURL: api.url });
      attachToken(instance, { source, scope: SCOPE });
      await instance.get(`${other.url}/built-from-input`);
      await instance.get(`${api.url}/same-origin-absolute`);
      expect(other.seen.map((r) => r.token)).to.deep.equal([undefined]);
      expect(api.seen.map((r) => r.token)).to.deep.equal(['token-1']);
    });

    it('gives no token to a protocol-relative URL of another host, with a custom adapter that would send it', async () => {
      const { instance, sent } = recording({ baseURL: 'https://api.example/v1' });
      attachToken(instance, { source, scope: SCOPE });
      await instance.get('//other.example/x');
      await instance.get('//api.example/y'); // the baseURL's protocol and host: the same origin
      await instance.get('//api.example:8443/z'); // another port: another origin
      expect(sent).to.deep.equal([
        { url: '//other.example/x', authorization: undefined },
        { url: '//api.example/y', authorization: 'Bearer token-1' },
        { url: '//api.example:8443/z', authorization: undefined },
      ]);
    });

    it('gives the token to a protocol-relative URL of a listed origin', async () => {
      const { instance, sent } = recording({ baseURL: 'https://api.example' });
      attachToken(instance, { source, scope: SCOPE, origins: ['https://other.example'] });
      await instance.get('//other.example/x');
      expect(sent).to.deep.equal([{ url: '//other.example/x', authorization: 'Bearer token-1' }]);
    });

    it("gives the token to a per-request baseURL's origin, and nothing to the instance's then", async () => {
      const instance = axios.create({ baseURL: api.url });
      attachToken(instance, { source, scope: SCOPE });
      await instance.get('/x', { baseURL: other.url });
      await instance.get(`${api.url}/x`, { baseURL: other.url }); // absolute, to the instance's origin: not named by this request
      expect(other.seen.map((r) => r.token)).to.deep.equal(['token-1']);
      expect(api.seen.map((r) => r.token)).to.deep.equal([undefined]);
    });

    it('with allowAbsoluteUrls: false, an absolute URL goes under the baseURL, and so does the token (axios >= 1.8.2)', async function () {
      if (!honoursAllowAbsoluteUrls(axios.VERSION)) this.skip(); // the next test covers older axios
      const instance = axios.create({ baseURL: api.url, allowAbsoluteUrls: false });
      attachToken(instance, { source, scope: SCOPE });
      await instance.get(`${other.url}/x`);
      expect(other.seen).to.deep.equal([]);
      expect(api.seen.map((r) => r.token)).to.deep.equal(['token-1']);
    });

    it('with allowAbsoluteUrls: false on an axios that ignores it (before 1.8.2), the absolute URL goes to its own origin without the token', async function () {
      if (honoursAllowAbsoluteUrls(axios.VERSION)) this.skip(); // the test above covers this axios; .ci/axios-compat.sh runs this one on 1.7.9
      const instance = axios.create({ baseURL: api.url, allowAbsoluteUrls: false });
      attachToken(instance, { source, scope: SCOPE });
      await instance.get(`${other.url}/x`);
      expect(other.seen.map((r) => r.token)).to.deep.equal([undefined]);
      expect(api.seen).to.deep.equal([]);
    });

    it('knows which axios releases honour allowAbsoluteUrls: false (1.8.2 and later)', () => {
      expect(['1.7.9', '1.8.1', '1.8.2', '1.13.6', '1.21.1', '2.0.0', undefined].map(honoursAllowAbsoluteUrls)).to.deep.equal([
        false,
        false,
        true,
        true,
        true,
        true,
        false,
      ]);
    });
  });

  describe('the 401 retry follows the same rule', () => {
    it('retries an absolute URL of a listed origin there, with the fresh token', async () => {
      const instance = axios.create({ baseURL: api.url });
      attachToken(instance, { source, scope: SCOPE, origins: [other.url] });
      other.state.statuses = [401];
      const response = await instance.get(`${other.url}/x`);
      expect(response.status).to.equal(200);
      expect(other.seen.map((r) => r.token)).to.deep.equal(['token-1', 'token-2']);
      expect(api.seen).to.deep.equal([]);
    });

    // axios's merge copies the record of what we sent into a config re-sent through the instance:
    // a re-send that goes elsewhere, or says token: false, must not be retried with a token.
    for (const [name, change] of [
      ['to another origin', (o: string) => ({ url: `${o}/fallback` })],
      ['with token: false', () => ({ token: false as const })],
    ] as const) {
      it(`never retries with a token a refused request that a user's interceptor re-sent ${name}`, async () => {
        const instance = axios.create({ baseURL: api.url });
        // Registered first: it sees the first 401, before the token interceptor does.
        instance.interceptors.response.use(undefined, (error: AxiosError) => {
          const config = error.config as InternalAxiosRequestConfig & { resent?: boolean };
          if (config.resent) throw error;
          return instance.request({ ...config, ...change(other.url), resent: true } as never);
        });
        attachToken(instance, { source, scope: SCOPE });
        api.state.statuses = [401];
        other.state.statuses = [401];
        api.state.requireToken = other.state.requireToken = true;
        const error = (await instance.get('/x').catch((e: unknown) => e)) as AxiosError;
        expect(error.response?.status).to.equal(401);
        // The header we set on the first pass is dropped too: the re-send goes without a token.
        expect(api.seen.map((r) => r.token)).to.deep.equal(name === 'with token: false' ? ['token-1', undefined] : ['token-1']);
        expect(other.seen.map((r) => r.token)).to.deep.equal(name === 'with token: false' ? [] : [undefined]);
        expect(minted).to.equal(1);
      });
    }

    it('gives back the 401 of an absolute URL of another origin as it is: no token, no retry, no refresh', async () => {
      const instance = axios.create({ baseURL: api.url });
      attachToken(instance, { source, scope: SCOPE });
      other.state.requireToken = true;
      const error = (await instance.get(`${other.url}/x`).catch((e: unknown) => e)) as AxiosError;
      expect(error.response?.status).to.equal(401);
      expect(other.seen.map((r) => r.token)).to.deep.equal([undefined]);
      expect(minted).to.equal(0);
    });
  });
});
