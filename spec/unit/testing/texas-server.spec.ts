import { expect } from 'chai';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import sinon from 'sinon';
import { startTexasServer, type TexasServer, type TexasServerOptions } from '../../../lib/testing/texas-server.js';

// The server's own part: options, routing, the answers it gives itself (404, 405, Entra's
// AADSTS900561, body errors, unexpected failures), its request records, the upstream (latency,
// failNext, mints), and the helpers around it. The endpoints' rules have their own specs beside
// this one. No socket is opened: listen() and address() are stubbed and each request is handed to
// the server's 'request' handler in memory.

const PORT = 40401;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const T0 = 1_700_000_000_000;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

describe('testing/texas-server', () => {
  let servers: Server[];
  let listened: unknown[][];
  let time: number;
  beforeEach(() => {
    servers = [];
    listened = [];
    time = T0;
    sinon.stub(Server.prototype, 'listen').callsFake(function (this: Server, ...args: unknown[]) {
      servers.push(this);
      listened.push(args.filter((a) => typeof a !== 'function'));
      (args.find((a) => typeof a === 'function') as () => void)();
      return this;
    });
    sinon.stub(Server.prototype, 'address').returns({ port: PORT, family: 'IPv4', address: '127.0.0.1' });
  });
  afterEach(() => sinon.restore());

  /** A server on the stubbed socket, on a clock the test moves (`time`). */
  async function start(options: TexasServerOptions = {}): Promise<TexasServer> {
    return startTexasServer({ now: () => time, ...options });
  }

  /** Hands one request to the last server started; resolves with its answer. */
  function request(method: string, path: string, body?: string, contentType?: string): Promise<Answer> {
    const req = Readable.from(body === undefined ? [] : [Buffer.from(body)]) as unknown as IncomingMessage;
    Object.assign(req, { method, url: path, headers: contentType === undefined ? {} : { 'content-type': contentType } });
    return new Promise((resolve) => {
      let status = 0;
      let headers: Record<string, string> = {};
      const res = {
        writeHead(s: number, h: Record<string, string>) {
          status = s;
          headers = h;
          return res;
        },
        end(text: string) {
          resolve({ status, headers, body: JSON.parse(text) as Record<string, unknown> });
        },
      } as unknown as ServerResponse;
      servers.at(-1)!.emit('request', req, res);
    });
  }
  const json = (path: string, body: unknown, method = 'POST') => request(method, path, JSON.stringify(body), 'application/json');
  const form = (path: string, fields: Record<string, string>, method = 'POST') =>
    request(method, path, new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded');
  const token = (body: Record<string, unknown>) => json('/api/v1/token', body);
  const entraMachine = { identity_provider: 'entra_id', target: 'api://dev-gcp.other.api/.default' };
  const claimsOf = (jwt: unknown) => decodeJwt(jwt as string);
  /** The error an async helper rejects with; it must not throw before it returns its promise. */
  const rejection = async (run: () => Promise<unknown>): Promise<Error> => {
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = run()), 'a rejection, not a synchronous throw').not.to.throw();
    return promise!.then(
      () => expect.fail('expected a rejection'),
      (error: Error) => error,
    );
  };

  describe('options', () => {
    it('refuses an app that is not <cluster>:<namespace>:<app>, before listening', async () => {
      for (const app of ['team-app', 'a:b', 'a:b:c:d', 'a:b c:d', '']) {
        const error = await startTexasServer({ app }).then(
          () => expect.fail(`expected ${JSON.stringify(app)} to be refused`),
          (e: Error) => e,
        );
        expect(error).to.be.instanceOf(TypeError);
        expect(error.message).to.equal(`startTexasServer: expected app to be <cluster>:<namespace>:<app>, got ${JSON.stringify(app)}`);
      }
      expect(servers).to.have.length(0);
    });

    it('listens on 127.0.0.1, on a free port, and names its endpoints after the port it got', async () => {
      const server = await start({ tenantId: 'tenant-1' });
      expect(listened).to.deep.equal([[0, '127.0.0.1']]);
      expect(server).to.include({
        url: ORIGIN,
        tokenEndpoint: `${ORIGIN}/api/v1/token`,
        exchangeEndpoint: `${ORIGIN}/api/v1/token/exchange`,
        introspectionEndpoint: `${ORIGIN}/api/v1/introspect`,
        entraTokenEndpoint: `${ORIGIN}/tenant-1/oauth2/v2.0/token`,
        tenantId: 'tenant-1',
        serviceAccountIssuer: `${ORIGIN}/kubernetes`,
      });
      expect(server.clientCredentialsEnv).to.deep.equal({
        AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: `${ORIGIN}/tenant-1/oauth2/v2.0/token`,
        AZURE_APP_CLIENT_ID: server.entraClient.clientId,
        AZURE_APP_CLIENT_SECRET: server.entraClient.clientSecret,
        AZURE_APP_TENANT_ID: 'tenant-1',
      });
      expect(server.entraClient.clientId).to.match(/^[0-9a-f-]{36}$/);
      expect(server.entraClient.clientSecret).to.match(/^secret-[0-9a-f-]{36}$/);
      expect((await start()).tenantId).to.equal('a1b2c3d4-0000-4000-8000-00000000e1d1');
    });

    it("belongs to dev-gcp:team:app by default, with this app's audience per provider", async () => {
      expect(await start()).to.deep.include({
        app: 'dev-gcp:team:app',
        audiences: { entra_id: 'api://dev-gcp.team.app', tokenx: 'dev-gcp:team:app', idporten: 'dev-gcp:team:app', maskinporten: 'dev-gcp:team:app' },
      });
      expect((await start({ app: 'prod-gcp:ns:svc' })).audiences).to.deep.equal({
        entra_id: 'api://prod-gcp.ns.svc',
        tokenx: 'prod-gcp:ns:svc',
        idporten: 'prod-gcp:ns:svc',
        maskinporten: 'prod-gcp:ns:svc',
      });
    });

    it('enables every provider by default, and azuread with entra_id', async () => {
      await start();
      expect((await token({ ...entraMachine, identity_provider: 'azuread' })).status).to.equal(200);
      expect((await token({ identity_provider: 'maskinporten', target: 'nav:x' })).status).to.equal(200);

      await start({ enabled: ['entra_id'] });
      expect((await token(entraMachine)).status).to.equal(200);
      expect((await token({ ...entraMachine, identity_provider: 'azuread' })).status).to.equal(200);
      expect((await token({ identity_provider: 'maskinporten', target: 'nav:x' })).body).to.deep.equal({
        error: 'invalid_request',
        error_description: "identity provider 'maskinporten' is not enabled",
      });

      await start({ enabled: ['maskinporten'] });
      for (const identity_provider of ['entra_id', 'azuread']) {
        expect((await token({ ...entraMachine, identity_provider })).body).to.deep.equal({
          error: 'invalid_request',
          error_description: `identity provider '${identity_provider}' is not enabled`,
        });
      }
    });

    it('signs azuread with the entra_id key and issuer', async () => {
      const server = await start();
      expect(server.jwks('azuread')).to.deep.equal(server.jwks('entra_id'));
      expect(server.jwks()).to.deep.equal(server.jwks('entra_id'));
      expect(server.jwks().keys.map((k) => k.kid)).to.deep.equal(['entra_id']);
      const machine = (await token({ ...entraMachine, identity_provider: 'azuread' })).body.access_token as string;
      expect(decodeProtectedHeader(machine).kid).to.equal('entra_id');
      expect(claimsOf(machine).iss).to.equal(`${ORIGIN}/entra_id`);
      const user = await server.mintUserToken('u', { identityProvider: 'azuread' });
      expect(decodeProtectedHeader(user).kid).to.equal('entra_id');
      expect(claimsOf(user)).to.include({ iss: `${ORIGIN}/entra_id`, aud: 'api://dev-gcp.team.app' });
    });

    it('gives a copy of a key set, which a test may change without harm', async () => {
      const server = await start();
      server.jwks('tokenx').keys[0]!.kid = 'changed';
      server.serviceAccountJwks().keys[0]!.kid = 'changed';
      expect(server.jwks('tokenx').keys[0]!.kid).to.equal('tokenx');
      expect(server.serviceAccountJwks().keys).to.have.length(1);
      expect(server.serviceAccountJwks().keys[0]).to.include({ kid: 'kubernetes', alg: 'ES256', use: 'sig', kty: 'EC', crv: 'P-256' });
    });
  });

  describe('the clock', () => {
    it("reads Date.now by default, for the tokens' iat and exp and for verify", async () => {
      const clock = sinon.useFakeTimers({ now: T0, toFake: ['Date'] });
      const server = await startTexasServer();
      const jwt = (await token(entraMachine)).body.access_token as string;
      expect(claimsOf(jwt)).to.include({ iat: T0 / 1000, exp: T0 / 1000 + 3599 });
      clock.tick(3_598_999);
      expect(await server.verify(jwt)).to.include({ sub: 'app' });
      clock.tick(1);
      expect(await server.verify(jwt)).to.equal(null);
    });

    it("moves Texas's cache with the given clock: a hit until lifetime - 120 s, then a new mint", async () => {
      const server = await start({ lifetime: 600_000 });
      const first = (await token(entraMachine)).body;
      time += 479_999;
      const hit = (await token(entraMachine)).body;
      expect(hit.access_token).to.equal(first.access_token);
      expect(hit.expires_in).to.equal(120);
      time += 1;
      expect((await token(entraMachine)).body.access_token).not.to.equal(first.access_token);
      expect(server.mints).to.equal(2);
    });
  });

  describe('token lifetime', () => {
    const expiresIn = async (body: Record<string, unknown> = entraMachine) => {
      const answer = await token({ ...body, skip_cache: true });
      const claims = claimsOf(answer.body.access_token);
      expect(claims.exp! - claims.iat!, "the token's own lifetime").to.equal(answer.body.expires_in);
      return answer.body.expires_in;
    };

    it('is 3599 s by default, what Texas gives for Entra ID', async () => {
      await start();
      expect(await expiresIn()).to.equal(3599);
    });

    it('takes lifetime in milliseconds, rounded to whole seconds, over the deprecated tokenLifetime in seconds', async () => {
      await start({ lifetime: 60_000 });
      expect(await expiresIn()).to.equal(60);
      await start({ lifetime: 1_500 });
      expect(await expiresIn()).to.equal(2);
      await start({ lifetime: 1_499 });
      expect(await expiresIn()).to.equal(1);
      await start({ tokenLifetime: 30 });
      expect(await expiresIn()).to.equal(30);
      await start({ lifetime: 10_000, tokenLifetime: 30 });
      expect(await expiresIn()).to.equal(10);
    });

    it('changes for tokens minted from then on: setLifetime in milliseconds, setTokenLifetime in seconds', async () => {
      const server = await start();
      server.setLifetime(20_000);
      expect(await expiresIn()).to.equal(20);
      server.setTokenLifetime(7);
      expect(await expiresIn()).to.equal(7);
      server.setLifetime(2_400);
      expect(await expiresIn()).to.equal(2);
    });

    it("is the Entra ID endpoint's lifetime too", async () => {
      const server = await start({ lifetime: 90_000 });
      const answer = await entraSecret(server);
      expect(answer.body).to.include({ expires_in: 90, ext_expires_in: 90 });
      server.setTokenLifetime(45);
      expect((await entraSecret(server)).body).to.include({ expires_in: 45 });
    });
  });

  /** A client-secret request to the Entra ID endpoint with the default client. */
  const entraSecret = (server: TexasServer, method = 'POST') =>
    form(
      `/${server.tenantId}/oauth2/v2.0/token`,
      {
        grant_type: 'client_credentials',
        client_id: server.entraClient.clientId,
        client_secret: server.entraClient.clientSecret,
        scope: 'api://x/.default',
      },
      method,
    );

  describe('routing', () => {
    it('answers a path it does not serve with 404 and exactly {error, error_description}, in JSON', async () => {
      await start();
      const answer = await json('/api/v1/tokens', entraMachine);
      expect(answer).to.deep.equal({
        status: 404,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: { error: 'invalid_request', error_description: 'no such endpoint: /api/v1/tokens' },
      });
      expect((await json('/toString', entraMachine)).status).to.equal(404);
      expect((await json('/', entraMachine)).status).to.equal(404);
    });

    it('routes on the path without its query', async () => {
      const server = await start();
      const answer = await json('/api/v1/token?debug=1', entraMachine);
      expect(answer.status).to.equal(200);
      expect(answer.headers).to.deep.equal({ 'content-type': 'application/json; charset=utf-8' });
      expect(answer.body).to.have.keys('access_token', 'expires_in', 'token_type');
      expect(server.requests[0]!.path).to.equal('/api/v1/token');
      expect((await json('/api/v1/introspect?x', { identity_provider: 'entra_id', token: 'x' })).body).to.include({ active: false });
    });

    it('answers any other method than POST with 405, before it reads the path or the body', async () => {
      const server = await start();
      for (const method of ['GET', 'PUT', 'DELETE']) {
        expect(await json('/api/v1/token', entraMachine, method)).to.deep.include({
          status: 405,
          body: { error: 'invalid_request', error_description: `method not allowed: ${method}` },
        });
      }
      expect((await request('GET', '/nowhere')).body).to.deep.equal({ error: 'invalid_request', error_description: 'method not allowed: GET' });
      expect(server.requests.map((r) => [r.status, r.body])).to.deep.equal([
        [405, {}],
        [405, {}],
        [405, {}],
        [405, {}],
      ]);
      expect(server.mints).to.equal(0);
    });

    it("answers the Entra ID endpoint with Entra's own bodies: 200 for a client secret, AADSTS900561 for another method", async () => {
      const server = await start();
      const ok = await entraSecret(server);
      expect(ok.status).to.equal(200);
      expect(ok.body).to.include({ token_type: 'Bearer', expires_in: 3599 });
      expect(claimsOf(ok.body.access_token)).to.include({ iss: `${ORIGIN}/entra_id`, aud: 'api://x', azp: server.entraClient.clientId });

      const get = await entraSecret(server, 'GET');
      expect(get.status).to.equal(400);
      expect(get.headers).to.deep.equal({ 'content-type': 'application/json; charset=utf-8' });
      expect(get.body).to.include({ error: 'invalid_request', error_uri: 'https://login.microsoftonline.com/error?code=900561' });
      expect(get.body.error_codes).to.deep.equal([900561]);
      expect(get.body.error_description).to.match(/^AADSTS900561: The endpoint only accepts POST requests\.\r\nTrace ID: /);
      expect(server.mints).to.equal(1);
    });

    it('passes any other tenant in the path to the Entra ID endpoint, which refuses it as Entra does', async () => {
      await start();
      const answer = await form('/other-tenant/oauth2/v2.0/token', { grant_type: 'client_credentials' });
      expect(answer.status).to.equal(400);
      expect(answer.body.error_codes).to.deep.equal([90002]);
      expect((await form('/a/b/oauth2/v2.0/token', {})).status, 'a tenant is one path segment').to.equal(404);
    });

    it('reads no body at the Entra ID endpoint without a content type, and routes it without its query', async () => {
      const server = await start();
      const bare = await request('POST', `/${server.tenantId}/oauth2/v2.0/token?x=1`, 'grant_type=client_credentials');
      expect(bare.status).to.equal(400);
      expect(bare.body.error_codes).to.deep.equal([900144]);
      expect(bare.body.error_description).to.match(/^AADSTS900144: The request body must contain the following parameter: 'grant_type'\./);
      expect(server.requests).to.deep.equal([{ path: `/${server.tenantId}/oauth2/v2.0/token`, body: {}, status: 400 }]);
    });
  });

  describe('bodies that do not parse', () => {
    const refusal = (description: string) => ({ status: 400, body: { error: 'invalid_request', error_description: description } });

    it("answers JSON that does not parse, or is not an object, with Texas's deserialize error", async () => {
      await start();
      const broken = await request('POST', '/api/v1/token', '{"identity_provider":', 'application/json');
      expect(broken.status).to.equal(400);
      expect(broken.body).to.have.keys('error', 'error_description');
      expect(broken.body.error_description).to.match(/^Failed to deserialize the JSON body into the target type: \S/);
      for (const body of ['[]', 'null', '"text"', '7']) {
        expect(await request('POST', '/api/v1/token', body, 'application/json')).to.deep.include(
          refusal('Failed to deserialize the JSON body into the target type: expected a JSON object'),
        );
      }
      expect(await json('/api/v1/token', { ...entraMachine, skip_cache: 'true' })).to.deep.include(
        refusal('Failed to deserialize the JSON body into the target type: skip_cache: invalid type: "true", expected a boolean'),
      );
    });

    it("answers a form that does not parse with the parser's own words, and a body of another type or none with 400", async () => {
      await start();
      expect(await form('/api/v1/token', { ...entraMachine, skip_cache: 'yes' })).to.deep.include(
        refusal('Failed to deserialize form body: skip_cache: provided string was not `true` or `false`'),
      );
      const details = await form('/api/v1/token', { identity_provider: 'maskinporten', target: 's', authorization_details: '[{' });
      expect(details.status).to.equal(400);
      expect(details.body.error_description, "a form's words, not JSON's").to.match(/^Failed to deserialize form body: authorization_details: \S/);
      expect(await request('POST', '/api/v1/token', 'x=1', 'text/plain')).to.deep.include(refusal('unsupported media type: text/plain'));
      expect(await request('POST', '/api/v1/token', 'x=1')).to.deep.include(refusal('unsupported media type: none'));
    });

    it('checks the body before the path: a body that does not parse is a 400 on any path', async () => {
      await start();
      expect((await request('POST', '/nowhere', '{', 'application/json')).status).to.equal(400);
    });
  });

  describe('requests', () => {
    it('keeps every request in arrival order: path, parsed body, content type as sent, and the status answered', async () => {
      const server = await start();
      await json('/api/v1/token?q=1', { ...entraMachine, extra: 1 });
      await form('/api/v1/token', { ...entraMachine, skip_cache: 'true' });
      await request('POST', '/api/v1/token', '{', 'application/json; charset=utf-8');
      await request('POST', '/api/v1/token', '');
      await json('/api/v1/nothing', {});
      await request('GET', '/api/v1/token');
      expect(server.requests).to.deep.equal([
        { path: '/api/v1/token', body: { ...entraMachine, extra: 1 }, contentType: 'application/json', status: 200 },
        { path: '/api/v1/token', body: { ...entraMachine, skip_cache: true }, contentType: 'application/x-www-form-urlencoded', status: 200 },
        { path: '/api/v1/token', body: {}, contentType: 'application/json; charset=utf-8', status: 400 },
        { path: '/api/v1/token', body: {}, status: 400 },
        { path: '/api/v1/nothing', body: {}, contentType: 'application/json', status: 404 },
        { path: '/api/v1/token', body: {}, status: 405 },
      ]);
      expect(server.requests[3]).not.to.have.property('contentType');
    });

    it("keeps the Entra ID endpoint's form fields, whatever the method, and reads no other body there", async () => {
      const server = await start();
      await entraSecret(server, 'GET');
      await request('POST', `/${server.tenantId}/oauth2/v2.0/token`, '{"grant_type":"client_credentials"}', 'application/json');
      expect(server.requests.map(({ body, status }) => ({ body, status }))).to.deep.equal([
        {
          body: {
            grant_type: 'client_credentials',
            client_id: server.entraClient.clientId,
            client_secret: server.entraClient.clientSecret,
            scope: 'api://x/.default',
          },
          status: 400,
        },
        { body: {}, status: 400 },
      ]);
    });
  });

  describe('upstream mints', () => {
    it('counts the mints, not the requests: a cache hit mints nothing, skip_cache and the Entra ID endpoint mint', async () => {
      const server = await start();
      await token(entraMachine);
      await token(entraMachine);
      await token({ ...entraMachine, identity_provider: 'azuread' });
      expect(server.mints).to.equal(1);
      await token({ ...entraMachine, skip_cache: true });
      expect(server.mints).to.equal(2);
      await entraSecret(server);
      await entraSecret(server);
      expect(server.mints).to.equal(4);
      expect(server.requests).to.have.length(6);
    });

    it('fails the next count mints with the given status and two-field body, then mints again; a failure is never cached', async () => {
      const server = await start();
      server.failNext(2, 503, 'temporarily_unavailable', 'the provider is down');
      for (let i = 0; i < 2; i++) {
        expect(await token(entraMachine)).to.deep.include({
          status: 503,
          body: { error: 'temporarily_unavailable', error_description: 'the provider is down' },
        });
      }
      expect(server.mints).to.equal(0);
      expect((await token(entraMachine)).status).to.equal(200);
      expect(server.mints).to.equal(1);
      expect(server.requests.map((r) => r.status)).to.deep.equal([503, 503, 200]);
    });

    it('spends a failure on the next mint, not on the next request: a cache hit leaves it queued', async () => {
      const server = await start();
      await token(entraMachine);
      server.failNext(1, 400, 'invalid_scope', 'AADSTS70011: no');
      expect((await token(entraMachine)).status, 'a cache hit').to.equal(200);
      expect(await token({ ...entraMachine, skip_cache: true })).to.deep.include({ status: 400, body: { error: 'invalid_scope', error_description: 'AADSTS70011: no' } });
      expect((await token({ ...entraMachine, skip_cache: true })).status).to.equal(200);
      server.failNext(0, 500, 'x', 'y');
      expect((await token({ ...entraMachine, skip_cache: true })).status).to.equal(200);
    });

    it("fails an exchange's mint too, and lets requests that mint nothing pass", async () => {
      const server = await start();
      const user = await server.mintUserToken('u');
      server.failNext(1, 502, 'bad_gateway', 'upstream');
      expect((await json('/api/v1/introspect', { identity_provider: 'entra_id', token: user })).body).to.include({ active: true });
      expect((await token({ identity_provider: 'tokenx', target: 'x' })).status, 'refused before any mint').to.equal(400);
      const exchange = await json('/api/v1/token/exchange', {
        identity_provider: 'tokenx',
        target: 'dev-gcp:ns:api',
        user_token: await server.mintUserToken('u', { identityProvider: 'tokenx' }),
      });
      expect(exchange).to.deep.include({ status: 502, body: { error: 'bad_gateway', error_description: 'upstream' } });
    });

    it("fails the Entra ID endpoint's mint as Entra ID answers it, the AADSTS code from the description's prefix", async () => {
      const server = await start();
      server.failNext(1, 401, 'invalid_client', 'AADSTS7000222: The provided client secret keys are expired.');
      server.failNext(1, 500, 'server_error', 'no code here');
      const coded = await entraSecret(server);
      expect(coded.status).to.equal(401);
      expect(coded.body).to.include({ error: 'invalid_client' });
      expect(coded.body.error_codes).to.deep.equal([7000222]);
      expect(coded.body.error_description).to.match(/^AADSTS7000222: The provided client secret keys are expired\.\r\nTrace ID: /);
      const plain = await entraSecret(server);
      expect(plain.status).to.equal(500);
      expect(plain.body.error_codes).to.deep.equal([0]);
      expect(plain.body.error_description).to.match(/^AADSTS0: no code here\r\n/);
      expect(server.mints).to.equal(0);
      expect((await entraSecret(server)).status).to.equal(200);
    });

    it('shares one queue of failures between the Texas endpoints and the Entra ID endpoint', async () => {
      const server = await start();
      server.failNext(1, 503, 'temporarily_unavailable', 'AADSTS50001: down');
      expect((await entraSecret(server)).body.error_codes).to.deep.equal([50001]);
      expect((await token(entraMachine)).status).to.equal(200);
    });
  });

  describe('upstream latency and close()', () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(() => (clock = sinon.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout'] })));

    /** Lets the request run until it waits on the upstream delay (the only timer it sets). */
    const untilDelayed = async (timers = 1) => {
      while (clock.countTimers() < timers) await new Promise((resolve) => setImmediate(resolve));
    };
    const settled = (promise: Promise<unknown>) => {
      const state = { done: false };
      void promise.then(() => (state.done = true));
      return state;
    };

    it('delays each mint by upstreamDelay, and no request that mints nothing', async () => {
      const server = await start({ upstreamDelay: 1_000 });
      const pending = token(entraMachine);
      const state = settled(pending);
      await untilDelayed();
      await clock.tickAsync(999);
      expect(state.done).to.equal(false);
      await clock.tickAsync(1);
      expect((await pending).status).to.equal(200);
      expect((await token(entraMachine)).status, 'a cache hit, no timer').to.equal(200);
      expect((await json('/api/v1/introspect', { identity_provider: 'entra_id', token: await server.mintUserToken('u') })).body).to.include({ active: true });
      expect(clock.countTimers()).to.equal(0);
    });

    it('takes the deprecated upstreamDelayMs, and upstreamDelay over it', async () => {
      await start({ upstreamDelayMs: 500 });
      let pending = token(entraMachine);
      const state = settled(pending);
      await untilDelayed();
      await clock.tickAsync(499);
      expect(state.done).to.equal(false);
      await clock.tickAsync(1);
      await pending;

      await start({ upstreamDelay: 100, upstreamDelayMs: 500 });
      pending = token(entraMachine);
      await untilDelayed();
      await clock.tickAsync(100);
      expect(clock.countTimers(), 'the delay is over').to.equal(0);
      expect((await pending).status).to.equal(200);
    });

    it('delays the Entra ID endpoint, and applies a failure after the delay', async () => {
      const server = await start({ upstreamDelay: 200 });
      server.failNext(1, 400, 'invalid_request', 'AADSTS1: no');
      const pending = entraSecret(server);
      const state = settled(pending);
      await untilDelayed();
      await clock.tickAsync(199);
      expect(state.done).to.equal(false);
      await clock.tickAsync(1);
      expect((await pending).body.error_codes).to.deep.equal([1]);
    });

    it('makes concurrent requests for one key share one delayed mint', async () => {
      const server = await start({ upstreamDelay: 1_000 });
      const answers = Promise.all([token(entraMachine), token(entraMachine), token({ ...entraMachine, identity_provider: 'azuread' })]);
      await untilDelayed();
      await clock.tickAsync(1_000);
      const tokens = (await answers).map((a) => a.body.access_token);
      expect(new Set(tokens).size).to.equal(1);
      expect(server.mints).to.equal(1);
    });

    it('ends every pending delay on close(), answering 500 at once and leaving no timer behind', async () => {
      const server = await start({ upstreamDelay: 60_000 });
      const texas = token(entraMachine);
      const other = token({ ...entraMachine, target: 'api://c.ns.other/.default' });
      const entra = entraSecret(server);
      await untilDelayed(3);
      await server.close();
      expect(clock.countTimers()).to.equal(0);
      expect(await texas).to.deep.include({
        status: 500,
        body: { error: 'server_error', error_description: 'Upstream request failed: the server was closed' },
      });
      expect((await other).status).to.equal(500);
      const answer = await entra;
      expect(answer.status).to.equal(500);
      expect(answer.body).to.include({ error: 'server_error' });
      expect(answer.body.error_codes).to.deep.equal([500]);
      expect(answer.body.error_description).to.match(/^AADSTS500: Unexpected failure: the server was closed\r\n/);
      expect(server.mints).to.equal(0);
      expect(server.requests.map((r) => r.status)).to.deep.equal([500, 500, 500]);
    });

    it('closes at once when nothing is pending, and ends open connections', async () => {
      const server = await start();
      const closeAll = sinon.spy(servers[0]!, 'closeAllConnections');
      const close = sinon.spy(servers[0]!, 'close');
      await server.close();
      expect(closeAll.calledOnce).to.equal(true);
      expect(close.calledOnce).to.equal(true);
      expect(closeAll.calledBefore(close)).to.equal(true);
    });
  });

  describe('verify and revoke', () => {
    it('gives the claims of a token it signed for any provider and audience, until it expires', async () => {
      const server = await start({ lifetime: 60_000 });
      const machine = (await token(entraMachine)).body.access_token as string;
      expect(await server.verify(machine)).to.include({ iss: `${ORIGIN}/entra_id`, aud: 'api://dev-gcp.other.api', sub: 'app' });
      const user = await server.mintUserToken('u', { identityProvider: 'idporten', audience: 'someone-else' });
      expect(await server.verify(user)).to.include({ sub: 'u', aud: 'someone-else', iss: `${ORIGIN}/idporten` });
      time += 59_999;
      expect(await server.verify(machine)).to.include({ sub: 'app' });
      time += 1;
      expect(await server.verify(machine), 'at exp').to.equal(null);
    });

    it('gives null for a token it did not sign, with another issuer, expired, or not a JWT', async () => {
      const server = await start();
      const stranger = await (await start()).mintUserToken('u');
      expect(await server.verify(stranger), "another server's token").to.equal(null);
      expect(await server.verify(await server.mintUserToken('u', { claims: { iss: 'https://elsewhere' } }))).to.equal(null);
      expect(await server.verify(await server.mintUserToken('u', { identityProvider: 'tokenx', claims: { iss: `${ORIGIN}/entra_id` } }))).to.equal(null);
      expect(await server.verify(await server.mintUserToken('u', { expiresIn: -1_000 }))).to.equal(null);
      expect(await server.verify('not.a.jwt')).to.equal(null);
      expect(await server.verify('')).to.equal(null);
    });

    it('refuses a revoked token from then on: verify, introspection and the exchange', async () => {
      const server = await start();
      const user = await server.mintUserToken('u');
      const other = await server.mintUserToken('v');
      const introspect = (t: string) => json('/api/v1/introspect', { identity_provider: 'entra_id', token: t });
      expect((await introspect(user)).body).to.include({ active: true });
      server.revoke(user);
      expect(await server.verify(user)).to.equal(null);
      expect((await introspect(user)).body).to.include({ active: false });
      const exchange = await json('/api/v1/token/exchange', { identity_provider: 'entra_id', target: 'api://c.ns.api/.default', user_token: user });
      expect(exchange.status).to.equal(400);
      expect(await server.verify(other), 'only that token').to.include({ sub: 'v' });
      expect((await introspect(other)).body).to.include({ active: true });
    });
  });

  describe('mintUserToken', () => {
    it("mints an Entra ID token for this app by default: the login's azp, an hour, no nbf", async () => {
      const server = await start({ app: 'prod-gcp:ns:svc' });
      const jwt = await server.mintUserToken('user-1');
      expect(decodeProtectedHeader(jwt)).to.deep.equal({ alg: 'ES256', kid: 'entra_id', typ: 'JWT' });
      const claims = claimsOf(jwt);
      expect(claims).to.include({ sub: 'user-1', aud: 'api://prod-gcp.ns.svc', azp: 'login', azp_name: 'dev-gcp:team:login', iss: `${ORIGIN}/entra_id`, iat: T0 / 1000 });
      expect(claims.exp).to.equal(T0 / 1000 + 3600);
      expect(claims).not.to.have.property('nbf');
      expect(claims.jti).to.be.a('string');
    });

    it("signs with the provider's key, for this app's audience for it or the given one", async () => {
      const server = await start();
      for (const provider of ['tokenx', 'idporten', 'maskinporten'] as const) {
        const jwt = await server.mintUserToken('u', { identityProvider: provider });
        expect(decodeProtectedHeader(jwt).kid).to.equal(provider);
        expect(claimsOf(jwt)).to.include({ aud: 'dev-gcp:team:app', iss: `${ORIGIN}/${provider}` });
      }
      expect(claimsOf(await server.mintUserToken('u', { identityProvider: 'tokenx', audience: 'x:y:z' })).aud).to.equal('x:y:z');
    });

    it('refuses a provider it does not sign for, and a duration that is not a number, by rejecting', async () => {
      const server = await start();
      const error = await rejection(() => server.mintUserToken('u', { identityProvider: 'kubernetes' as 'tokenx' }));
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.equal('mintUserToken: expected identityProvider to be one of entra_id, tokenx, idporten, maskinporten, got "kubernetes"');
      expect(await rejection(() => server.mintUserToken('u', { expiresIn: Number.NaN }))).to.be.instanceOf(TypeError);
      expect(await rejection(() => server.mintUserToken('u', { notBefore: Number.NaN }))).to.be.instanceOf(TypeError);
    });

    it('takes expiresIn and notBefore in milliseconds, rounded, over the deprecated second-counted names', async () => {
      const server = await start();
      const claims = async (opts: Parameters<TexasServer['mintUserToken']>[1]) => {
        const c = claimsOf(await server.mintUserToken('u', opts));
        return { exp: c.exp! - c.iat!, nbf: c.nbf === undefined ? undefined : c.nbf - c.iat! };
      };
      expect(await claims({ expiresIn: 90_000, notBefore: 30_000 })).to.deep.equal({ exp: 90, nbf: 30 });
      expect(await claims({ expiresIn: 1_500, notBefore: -2_499 })).to.deep.equal({ exp: 2, nbf: -2 });
      expect(await claims({ expiresInSeconds: 40, notBeforeInSeconds: 5 })).to.deep.equal({ exp: 40, nbf: 5 });
      expect(await claims({ expiresIn: 10_000, expiresInSeconds: 40, notBefore: 1_000, notBeforeInSeconds: 5 })).to.deep.equal({ exp: 10, nbf: 1 });
      expect(await claims({ notBefore: 0 })).to.deep.equal({ exp: 3600, nbf: 0 });
    });

    it('takes more claims, over the defaults', async () => {
      const server = await start();
      const claims = claimsOf(await server.mintUserToken('u', { audience: 'a', claims: { azp: 'other', groups: ['g'], aud: 'b' } }));
      expect(claims).to.deep.include({ azp: 'other', groups: ['g'], aud: 'b', sub: 'u' });
    });
  });

  describe('service accounts and Entra ID clients', () => {
    const federated = (server: TexasServer, assertion: string, clientId = server.entraClient.clientId) =>
      form(`/${server.tenantId}/oauth2/v2.0/token`, {
        grant_type: 'client_credentials',
        client_id: clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: 'api://x/.default',
      });

    it("mints a Kubernetes service-account token for this app's namespace and name, for AKS by default", async () => {
      const server = await start({ app: 'prod-gcp:ns:svc' });
      const jwt = await server.mintServiceAccountToken();
      expect(decodeProtectedHeader(jwt)).to.deep.equal({ alg: 'ES256', kid: 'kubernetes', typ: 'JWT' });
      expect(claimsOf(jwt)).to.deep.include({
        iss: `${ORIGIN}/kubernetes`,
        sub: 'system:serviceaccount:ns:svc',
        aud: 'api://AzureADTokenExchange',
        kubernetes: { namespace: 'ns', serviceaccount: { name: 'svc' } },
        iat: T0 / 1000,
        nbf: T0 / 1000,
        exp: T0 / 1000 + 3600,
      });
      const custom = claimsOf(await server.mintServiceAccountToken({ subject: 's', audience: 'nais', expiresIn: 90_999 }));
      expect(custom, 'rounded to whole seconds, as mintUserToken and lifetime').to.include({ sub: 's', aud: 'nais', exp: T0 / 1000 + 91 });
      expect(claimsOf(await server.mintServiceAccountToken({ expiresIn: 90_499 })).exp).to.equal(T0 / 1000 + 90);
      expect(claimsOf(await server.mintServiceAccountToken({ expiresIn: -1_500 })).exp, 'expired').to.equal(T0 / 1000 - 1);
    });

    it('refuses a subject that is not a string and a duration that is not a number by rejecting', async () => {
      const server = await start();
      expect(await rejection(() => server.mintServiceAccountToken({ expiresIn: Number.NaN }))).to.be.instanceOf(TypeError);
      expect(await rejection(() => server.mintServiceAccountToken({ subject: 7 as unknown as string }))).to.be.instanceOf(TypeError);
    });

    it('registers the default client with federated credentials for its service-account tokens, audience AKS or nais', async () => {
      const server = await start();
      expect((await federated(server, await server.mintServiceAccountToken())).status).to.equal(200);
      expect((await federated(server, await server.mintServiceAccountToken({ audience: 'nais' }))).status).to.equal(200);
      expect((await federated(server, await server.mintServiceAccountToken({ audience: 'other' }))).status).to.equal(400);
      expect((await federated(server, await server.mintServiceAccountToken({ subject: 'system:serviceaccount:team:other' }))).status).to.equal(400);
    });

    it('registers more clients, from the option and later, by their id or a new one, and replaces one by id', async () => {
      const server = await start({ entraClients: [{ clientId: 'from-option', clientSecret: 's1' }] });
      const bySecret = (clientId: string, clientSecret: string) =>
        form(`/${server.tenantId}/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret, scope: 'api://x/.default' });
      expect((await bySecret('from-option', 's1')).status).to.equal(200);
      const id = server.registerEntraClient({ clientSecret: 's2' });
      expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect((await bySecret(id, 's2')).status).to.equal(200);
      expect(server.registerEntraClient({ clientId: 'from-option', clientSecret: 's3' })).to.equal('from-option');
      expect((await bySecret('from-option', 's1')).status).to.equal(401);
      expect((await bySecret('from-option', 's3')).status).to.equal(200);
      expect((await bySecret('nobody', 's1')).body.error_codes).to.deep.equal([700016]);
    });
  });
});
