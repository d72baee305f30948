import axios, { AxiosError, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { withCache } from '../../lib/cache/with-cache.js';
import { TokenError } from '../../lib/errors.js';
import { attachToken } from '../../lib/interceptor/attach-token.js';
import { clientCredentials } from '../../lib/sources/client-credentials.js';
import { texas } from '../../lib/sources/texas.js';

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
    const instance = axios.create({ baseURL: 'https://api.example', adapter: async (config) => (seen.push(config), { data: {}, status: 200, statusText: 'OK', headers: {}, config }) });
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
    const { data } = await instance.get('/redirect-home');
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

  it("leaves axios's own error for a refused request as axios made it: its config still holds the bearer (documented)", async () => {
    let minted = 0;
    const counting = withCache(async () => ({ token: `token-${(minted += 1)}`, expiresAt: Date.now() + 3_600_000 }));
    const instance = axios.create({ baseURL: url(api) });
    attachToken(instance, { source: counting, scope: SCOPE });
    const error = (await instance.get('/refuse').catch((e: unknown) => e)) as AxiosError;
    expect(error.response?.status).to.equal(401);
    // The final 401 is the retry's: its config holds the refreshed bearer, which was refused too.
    expect(minted).to.equal(2);
    expect(error.config?.headers.Authorization).to.equal('Bearer token-2');
  });

  it('refuses a plain-http token endpoint that is not loopback, unless allowInsecure', () => {
    for (const make of [
      () => texas({ endpoint: 'http://texas.example/api/v1/token' }),
      () => clientCredentials({ tokenEndpoint: 'http://login.example/t/token', clientId: 'c', clientSecret: 's' }),
    ]) {
      expect(make).to.throw(TokenError, /plain http/).with.property('code', 'configuration');
    }
    expect(() => clientCredentials({ tokenEndpoint: 'http://login.example/t/token', clientId: 'c', clientSecret: 's', allowInsecure: true })).to.not.throw();
    for (const endpoint of ['http://127.0.0.1:7164/api/v1/token', 'http://localhost:7164/api/v1/token', 'http://[::1]:7164/api/v1/token']) {
      expect(() => texas({ endpoint })).to.not.throw();
    }
  });
});
