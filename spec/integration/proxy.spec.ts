import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import nock from 'nock';
import { createProxy } from 'proxy';
import { clientCredentials } from '../../lib/sources/client-credentials.js';
import { texas } from '../../lib/sources/texas.js';
import { TokenError } from '../../lib/errors.js';
import { leaks } from '../support/secret-forms.js';

// The token request through a real forward proxy (the npm `proxy` server) on loopback, to an
// https token endpoint with a test certificate, as on-premises services reach Entra ID through
// the platform's webproxy. The endpoint's name, login.test, exists only for the proxy: it is
// mapped to the loopback server before the proxy connects, so a direct request cannot succeed.

const SCOPE = 'api://dev-gcp.team.api/.default';

describe('the token request through a forward proxy', function () {
  this.timeout(30_000);
  let dir: string;
  let cert: string;
  let tokenServer: Server;
  let proxyServer: Server;
  let tokenPort: number;
  let proxyUrl: string;
  const connects: string[] = [];
  const plainProxied: string[] = [];
  let tokenRequests = 0;

  before(async () => {
    // nock's interception (active once any spec imports it) does not carry CONNECT tunnels.
    nock.restore();
    dir = mkdtempSync(join(tmpdir(), 'axios-m2m-proxy-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=login.test',
        '-addext',
        'subjectAltName=DNS:login.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    tokenServer = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      tokenRequests += 1;
      req.resume();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'through-the-proxy' }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    tokenPort = (tokenServer.address() as AddressInfo).port;

    proxyServer = createProxy(createHttpServer());
    // Runs before the proxy's own handler: record the tunnel asked for, then point login.test here.
    proxyServer.prependListener('connect', (req: IncomingMessage) => {
      connects.push(req.url ?? '');
      req.url = (req.url ?? '').replace(/^login\.test:/, '127.0.0.1:');
    });
    proxyServer.prependListener('request', (req: IncomingMessage) => plainProxied.push(req.url ?? ''));
    await new Promise<void>((resolve) => proxyServer.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxyServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((resolve) => tokenServer.close(() => resolve()));
    proxyServer.closeAllConnections?.();
    await new Promise<void>((resolve) => proxyServer.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
    nock.activate();
  });
  beforeEach(() => {
    connects.length = 0;
    plainProxied.length = 0;
    tokenRequests = 0;
  });

  const options = () => ({
    tokenEndpoint: `https://login.test:${tokenPort}/tenant/oauth2/v2.0/token`,
    clientId: 'client',
    clientSecret: 'secret-through-proxy',
    ca: cert,
    retries: 0,
  });

  it('tunnels an https token request with CONNECT through the proxy option', async () => {
    const token = await clientCredentials({ ...options(), proxy: proxyUrl }).getToken(SCOPE);
    expect(token.token).to.equal('through-the-proxy');
    expect(connects).to.deep.equal([`login.test:${tokenPort}`]);
    expect(plainProxied).to.deep.equal([]); // never sent to the proxy in clear text
  });

  it('takes the proxy from HTTPS_PROXY, and leaves hosts in NO_PROXY alone', async () => {
    const saved = { ...process.env };
    try {
      process.env.HTTPS_PROXY = proxyUrl;
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      expect((await clientCredentials(options()).getToken(SCOPE)).token).to.equal('through-the-proxy');
      expect(connects).to.have.length(1);

      process.env.NO_PROXY = 'login.test';
      const error = (await clientCredentials(options())
        .getToken(SCOPE)
        .catch((e: unknown) => e)) as TokenError;
      expect(error).to.be.instanceOf(TokenError);
      expect(error.code).to.equal('network'); // direct: login.test does not resolve
      expect(connects).to.have.length(1);
    } finally {
      process.env = saved;
    }
  });

  it('never proxies a loopback endpoint such as Texas', async () => {
    const texasServer = createHttpServer((req, res) => {
      req.resume();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ access_token: 'from-texas', expires_in: 3599, token_type: 'Bearer' }));
    });
    await new Promise<void>((resolve) => texasServer.listen(0, '127.0.0.1', resolve));
    const saved = { ...process.env };
    try {
      process.env.HTTP_PROXY = proxyUrl;
      process.env.HTTPS_PROXY = proxyUrl;
      const endpoint = `http://127.0.0.1:${(texasServer.address() as AddressInfo).port}/api/v1/token`;
      expect((await texas({ endpoint }).getToken(SCOPE)).token).to.equal('from-texas');
      expect((await texas({ endpoint, proxy: proxyUrl }).getToken(SCOPE)).token).to.equal('from-texas');
      expect(connects).to.deep.equal([]);
      expect(plainProxied).to.deep.equal([]);
    } finally {
      process.env = saved;
      await new Promise<void>((resolve) => texasServer.close(() => resolve()));
    }
  });

  it('honours lowercase https_proxy, and proxy: false overrides the environment', async () => {
    const saved = { ...process.env };
    try {
      for (const name of ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'no_proxy', 'http_proxy']) delete process.env[name];
      process.env.https_proxy = proxyUrl;
      expect((await clientCredentials(options()).getToken(SCOPE)).token).to.equal('through-the-proxy');
      expect(connects).to.deep.equal([`login.test:${tokenPort}`]);

      const error = (await clientCredentials({ ...options(), proxy: false })
        .getToken(SCOPE)
        .catch((e: unknown) => e)) as TokenError;
      expect(error).to.be.instanceOf(TokenError);
      expect(error.code).to.equal('network'); // went direct: login.test does not resolve
      expect(connects).to.have.length(1);
    } finally {
      process.env = saved;
    }
  });

  it('sends a plain-http endpoint (allowInsecure) through HTTP_PROXY as an ordinary forward request', async () => {
    const plainServer = createHttpServer((req, res) => {
      req.resume();
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'plain-through-the-proxy' }));
    });
    await new Promise<void>((resolve) => plainServer.listen(0, '127.0.0.1', resolve));
    const port = (plainServer.address() as AddressInfo).port;
    // The proxy resolves login.test to this loopback server; a direct request could not reach it.
    const asked: string[] = [];
    const rewrite = (req: IncomingMessage) => {
      asked.push(req.url ?? '');
      req.url = (req.url ?? '').replace(`//login.test:${port}/`, `//127.0.0.1:${port}/`);
    };
    proxyServer.prependListener('request', rewrite);
    const saved = { ...process.env };
    try {
      delete process.env.HTTPS_PROXY;
      delete process.env.https_proxy;
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      process.env.HTTP_PROXY = proxyUrl;
      const endpoint = `http://login.test:${port}/tenant/oauth2/v2.0/token`;
      const token = await clientCredentials({ tokenEndpoint: endpoint, clientId: 'client', clientSecret: 'secret', allowInsecure: true, retries: 0 }).getToken(SCOPE);
      expect(token.token).to.equal('plain-through-the-proxy');
      expect(asked).to.deep.equal([endpoint]); // the absolute URI, as a forward proxy gets it
      expect(connects).to.deep.equal([]);
    } finally {
      process.env = saved;
      proxyServer.removeListener('request', rewrite);
      await new Promise<void>((resolve) => plainServer.close(() => resolve()));
    }
  });

  it('authenticates to the proxy with the credentials in its URL, and keeps them out of errors', async () => {
    const authorizations: (string | undefined)[] = [];
    const auth = proxyServer as typeof proxyServer & { authenticate?: (req: IncomingMessage) => boolean };
    auth.authenticate = (req) => {
      authorizations.push(req.headers['proxy-authorization']);
      return req.headers['proxy-authorization'] === `Basic ${Buffer.from('team:p@ss word').toString('base64')}`;
    };
    try {
      const withCredentials = proxyUrl.replace('http://', 'http://team:p%40ss%20word@');
      expect((await clientCredentials({ ...options(), proxy: withCredentials }).getToken(SCOPE)).token).to.equal('through-the-proxy');

      const wrong = proxyUrl.replace('http://', 'http://team:wrong-proxy-password@');
      const error = (await clientCredentials({ ...options(), proxy: wrong })
        .getToken(SCOPE)
        .catch((e: unknown) => e)) as TokenError;
      expect(error).to.be.instanceOf(TokenError);
      expect(error.status).to.equal(407);
      expect(tokenRequests).to.equal(1); // only the authenticated tunnel reached the endpoint
      for (const text of [error.message, JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true })]) {
        expect(text).to.not.include('wrong-proxy-password');
        expect(text).to.not.include('secret-through-proxy');
      }
      expect(authorizations).to.have.length(2);
    } finally {
      delete auth.authenticate;
    }
  });

  describe('a proxy that echoes its credentials in a 407', () => {
    // What a proxy saw of its credentials, in every form: the Proxy-Authorization header (base64
    // of user:password), and the password decoded, percent- and JSON-encoded.
    const USER = 'team';
    const PASSWORD = 'Pr0xy~pass+w/rd= %x';
    let echoing: Server;
    let echoingUrl: string;
    const answer407 = (authorization: string) => {
      const basic = authorization.replace(/^Basic /, '');
      const decoded = Buffer.from(basic, 'base64').toString();
      const description = `proxy auth failed for ${authorization} (${decoded}, ${encodeURIComponent(decoded)}, ${JSON.stringify(decoded)})`;
      return JSON.stringify({ error: 'proxy_auth_required', error_description: description, trace_id: basic, correlation_id: encodeURIComponent(PASSWORD) });
    };
    before(async () => {
      echoing = createHttpServer((req, res) => {
        // A plain forward request (an http endpoint through HTTP_PROXY)
        req.resume();
        res.writeHead(407, { 'content-type': 'application/json' });
        res.end(answer407(String(req.headers['proxy-authorization'])));
      });
      echoing.on('connect', (req: IncomingMessage, socket) => {
        const body = answer407(String(req.headers['proxy-authorization']));
        socket.end(`HTTP/1.1 407 Proxy Authentication Required\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      });
      await new Promise<void>((resolve) => echoing.listen(0, '127.0.0.1', resolve));
      echoingUrl = `http://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${(echoing.address() as AddressInfo).port}`;
    });
    after(async () => {
      echoing.closeAllConnections();
      await new Promise<void>((resolve) => echoing.close(() => resolve()));
    });
    const secrets = [PASSWORD, `${USER}:${PASSWORD}`];

    it('tunnelling (an https endpoint): the 407 is an error without the credentials in any form', async () => {
      const error = (await clientCredentials({ ...options(), proxy: echoingUrl })
        .getToken(SCOPE)
        .catch((e: unknown) => e)) as TokenError;
      expect(error).to.be.instanceOf(TokenError);
      expect(error).to.include({ status: 407, code: 'unknown', oauthError: 'proxy_auth_required' });
      expect(error.description).to.include('proxy auth failed for Basic [REDACTED]');
      expect(leaks(error, secrets, { base64: true })).to.deep.equal([]);
    });

    it('forwarding (a plain-http endpoint): the 407 is an error without the credentials in any form', async () => {
      const error = (await clientCredentials({
        tokenEndpoint: 'http://login.test/tenant/oauth2/v2.0/token',
        clientId: 'client',
        clientSecret: 'secret',
        allowInsecure: true,
        retries: 0,
        proxy: echoingUrl,
      })
        .getToken(SCOPE)
        .catch((e: unknown) => e)) as TokenError;
      expect(error).to.include({ status: 407, code: 'unknown', oauthError: 'proxy_auth_required' });
      expect(leaks(error, secrets, { base64: true })).to.deep.equal([]);
    });
  });

  it('ends an attempt on a proxy that never answers CONNECT at attemptTimeout, and leaves the connection to it', async () => {
    const silent = createHttpServer();
    const tunnels: { socket: Socket; ended: boolean }[] = [];
    silent.on('connect', (_req: IncomingMessage, socket: Socket) => {
      // Takes the tunnel request, never answers; notes when the client hangs up.
      const tunnel = { socket, ended: false };
      tunnels.push(tunnel);
      socket.on('end', () => (tunnel.ended = true));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const proxy = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const error = (await clientCredentials({ ...options(), proxy, attemptTimeout: 200, retries: 1 })
        .getToken(SCOPE)
        .catch((e: unknown) => e)) as TokenError;
      expect(error).to.include({ code: 'timeout' });
      expect(tunnels).to.have.length(2); // the attempt was retried
      // The client hung up on both (a bounded wait for the last hang-up to arrive).
      for (let i = 0; i < 100 && !tunnels.every((t) => t.ended); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(tunnels.map((t) => t.ended)).to.deep.equal([true, true]);
    } finally {
      for (const { socket } of tunnels) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses a proxy option that is not a URL, at creation', () => {
    expect(() => clientCredentials({ ...options(), proxy: 'not a url' }))
      .to.throw(TokenError, /proxy/)
      .with.property('code', 'configuration');
  });
});
