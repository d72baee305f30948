import Ajv2020 from 'ajv/dist/2020.js';
import { expect } from 'chai';
import { SignJWT, createLocalJWKSet, decodeJwt, generateKeyPair, jwtVerify } from 'jose';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { startTexasServer, type TexasServer } from '../../lib/testing/texas-server.js';

// startTexasServer against docs/protocols/texas.md (error table, content types, its own cache) and against
// Texas's published OpenAPI schemas (spec/fixtures/texas-openapi.json, MIT, licence beside it).

const openapi = JSON.parse(readFileSync(new URL('../fixtures/texas-openapi.json', import.meta.url), 'utf8')) as { components: object };
const ajv = new Ajv2020.default({ strict: false });
ajv.addFormat('int64', true);
ajv.addSchema({ $id: 'texas', components: openapi.components });
const tokenResponse = ajv.compile({ $ref: 'texas#/components/schemas/TokenResponse' });
const errorResponse = ajv.compile({ $ref: 'texas#/components/schemas/ErrorResponse' });

const JSON_TYPE = 'application/json';
const FORM = 'application/x-www-form-urlencoded';
const SCOPE = 'api://dev-gcp.team.api/.default';
const DESERIALIZE_START = 'Failed to deserialize';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function post(url: string, body: string | object, contentType?: string, method = 'POST'): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  // A Blob without a type sends no content type at all (a plain string would send text/plain).
  const response = await fetch(url, {
    method,
    ...(method === 'POST' && { body: contentType ? text : new Blob([text]) }),
    headers: contentType ? { 'content-type': contentType } : {},
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function expectSuccess(answer: Answer): void {
  expect(answer.status).to.equal(200);
  expect(Object.keys(answer.body).sort()).to.deep.equal(['access_token', 'expires_in', 'token_type']);
  expect(answer.body.token_type).to.equal('Bearer');
  expect(tokenResponse(answer.body), JSON.stringify(tokenResponse.errors)).to.equal(true);
}

function expectError(answer: Answer, status: number, error: string, descriptionStart: string): void {
  expect(answer.status).to.equal(status);
  expect(Object.keys(answer.body).sort()).to.deep.equal(['error', 'error_description']);
  expect(answer.body.error).to.equal(error);
  expect(String(answer.body.error_description).startsWith(descriptionStart), String(answer.body.error_description)).to.equal(true);
  expect(errorResponse(answer.body), JSON.stringify(errorResponse.errors)).to.equal(true);
}

describe('startTexasServer, as docs/protocols/texas.md describes Texas', () => {
  let server: TexasServer;
  let now = 1_700_000_000_000;
  before(async () => {
    nock.restore(); // real loopback traffic
    server = await startTexasServer({ now: () => now, upstreamDelayMs: 20 });
  });
  after(async () => {
    await server.close();
    nock.activate();
  });

  it('answers a token request with exactly {access_token, expires_in, token_type}, a JWT as documented', async () => {
    const answer = await post(server.tokenEndpoint, { identity_provider: 'entra_id', target: SCOPE }, JSON_TYPE);
    expectSuccess(answer);
    expect(answer.body.expires_in).to.equal(3599);
    const { payload } = await jwtVerify(String(answer.body.access_token), createLocalJWKSet(server.jwks()), {
      issuer: `${server.url}/entra_id`,
      audience: 'api://dev-gcp.team.api', // the target without "/.default"
      currentDate: new Date(now),
    });
    expect(payload).to.include({ sub: 'app', azp: 'app' });
    expect(payload.jti).to.be.a('string');
    expect(server.requests.at(-1)).to.deep.include({ path: '/api/v1/token', contentType: JSON_TYPE });
  });

  const rows: [string, () => Promise<Answer>, number, string][] = [
    ['no content type', () => post(server.tokenEndpoint, '{}'), 400, 'unsupported media type:'],
    ['text/plain', () => post(server.tokenEndpoint, '{}', 'text/plain'), 400, 'unsupported media type:'],
    ['a body that does not parse', () => post(server.tokenEndpoint, '{"identity', JSON_TYPE), 400, 'Failed to deserialize'],
    ['an unknown identity_provider', () => post(server.tokenEndpoint, { identity_provider: 'google', target: 'x' }, JSON_TYPE), 400, 'Failed to deserialize'],
    ['a missing target', () => post(server.tokenEndpoint, { identity_provider: 'entra_id' }, JSON_TYPE), 400, 'Failed to deserialize'],
    [
      'tokenx on the token endpoint',
      () => post(server.tokenEndpoint, { identity_provider: 'tokenx', target: 'x' }, JSON_TYPE),
      400,
      "identity provider 'tokenx' does not support token requests",
    ],
    [
      'idporten on the token endpoint',
      () => post(server.tokenEndpoint, 'identity_provider=idporten&target=x', FORM),
      400,
      "identity provider 'idporten' does not support token requests",
    ],
    [
      'maskinporten on the exchange endpoint',
      () => post(server.exchangeEndpoint, { identity_provider: 'maskinporten', target: 'x', user_token: 'u' }, JSON_TYPE),
      400,
      "identity provider 'maskinporten' does not support token exchange",
    ],
    ['an exchange without user_token', () => post(server.exchangeEndpoint, { identity_provider: 'tokenx', target: 'c:ns:app' }, JSON_TYPE), 400, 'Failed to deserialize'],
    ['a GET', () => post(server.tokenEndpoint, '', undefined, 'GET'), 405, ''],
  ];
  for (const [name, send, status, description] of rows) {
    it(`answers ${name} with ${status} and exactly {error, error_description}`, async () => {
      expectError(await send(), status, 'invalid_request', description);
    });
  }

  it('takes a charset suffix and form bodies, and azuread shares entries with entra_id', async () => {
    const target = 'api://forms/.default';
    const json = await post(server.tokenEndpoint, { identity_provider: 'entra_id', target }, 'application/json; charset=utf-8');
    const form = await post(server.tokenEndpoint, `identity_provider=azuread&target=${encodeURIComponent(target)}`, `${FORM}; charset=UTF-8`);
    expectSuccess(json);
    expectSuccess(form);
    expect(form.body.access_token).to.equal(json.body.access_token);
  });

  it('serves its cache with the remaining expires_in until lifetime - 120 s, then mints anew', async () => {
    const request = { identity_provider: 'entra_id', target: 'api://leeway/.default' };
    const first = await post(server.tokenEndpoint, request, JSON_TYPE);
    now += 1_000_000;
    const second = await post(server.tokenEndpoint, request, JSON_TYPE);
    expect(second.body).to.include({ access_token: first.body.access_token, expires_in: 3599 - 1000 });
    now += (3599 - 120 - 1000 - 1) * 1000; // 121 s left: still served
    expect((await post(server.tokenEndpoint, request, JSON_TYPE)).body).to.include({ access_token: first.body.access_token, expires_in: 121 });
    now += 1000; // 120 s left: the entry is gone
    const fresh = await post(server.tokenEndpoint, request, JSON_TYPE);
    expect(fresh.body.access_token).to.not.equal(first.body.access_token);
    expect(fresh.body.expires_in).to.equal(3599);
  });

  it('keeps a token of 120 s or less for half its lifetime', async () => {
    server.setLifetime(100_000);
    try {
      const request = { identity_provider: 'entra_id', target: 'api://short/.default' };
      const first = await post(server.tokenEndpoint, request, JSON_TYPE);
      now += 49_000;
      expect((await post(server.tokenEndpoint, request, JSON_TYPE)).body).to.include({ access_token: first.body.access_token, expires_in: 51 });
      now += 1_000;
      expect((await post(server.tokenEndpoint, request, JSON_TYPE)).body.access_token).to.not.equal(first.body.access_token);
    } finally {
      server.setLifetime(3_599_000);
    }
  });

  it('takes every duration in milliseconds, and still the deprecated second-counted names', async () => {
    const request = { identity_provider: 'entra_id', target: 'api://units/.default' };
    for (const options of [{ lifetime: 42_000 }, { tokenLifetime: 42 }]) {
      const other = await startTexasServer({ ...options, now: () => 1_700_000_000_000 }); // a still clock: expires_in exactly
      try {
        expect((await post(other.tokenEndpoint, request, JSON_TYPE)).body, JSON.stringify(options)).to.include({ expires_in: 42 });
        other.setLifetime(7_000);
        expect((await post(other.tokenEndpoint, { ...request, skip_cache: true }, JSON_TYPE)).body).to.include({ expires_in: 7 });
        other.setTokenLifetime(8);
        expect((await post(other.tokenEndpoint, { ...request, skip_cache: true }, JSON_TYPE)).body).to.include({ expires_in: 8 });
      } finally {
        await other.close();
      }
    }
    const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number; nbf?: number; iat: number };
    const byMs = claimsOf(await server.mintUserToken('u', { expiresIn: 90_000, notBefore: 30_000 }));
    const bySeconds = claimsOf(await server.mintUserToken('u', { expiresInSeconds: 90, notBeforeInSeconds: 30 }));
    expect([byMs.exp - byMs.iat, byMs.nbf! - byMs.iat]).to.deep.equal([90, 30]);
    expect([bySeconds.exp - bySeconds.iat, bySeconds.nbf! - bySeconds.iat]).to.deep.equal([90, 30]);
  });

  it('mints anew on skip_cache true (JSON) or skip_cache=true (form), and caches the new token', async () => {
    const target = 'api://skip/.default';
    const first = await post(server.tokenEndpoint, { identity_provider: 'entra_id', target }, JSON_TYPE);
    const before = server.mints;
    const skipped = await post(server.tokenEndpoint, { identity_provider: 'entra_id', target, skip_cache: true }, JSON_TYPE);
    const skippedForm = await post(server.tokenEndpoint, `identity_provider=entra_id&target=${encodeURIComponent(target)}&skip_cache=true`, FORM);
    const tokens = [first, skipped, skippedForm].map((a) => a.body.access_token);
    expect(new Set(tokens).size).to.equal(3);
    expect(server.mints - before).to.equal(2);
    expect((await post(server.tokenEndpoint, { identity_provider: 'entra_id', target }, JSON_TYPE)).body.access_token).to.equal(tokens[2]);
    expect(server.requests.at(-2)!.body.skip_cache).to.equal(true);
  });

  it('shares one mint among 20 concurrent requests for one key, and never caches an error', async () => {
    const request = { identity_provider: 'entra_id', target: 'api://coalesce/.default' };
    server.failNext(1, 400, 'invalid_scope', 'AADSTS70011: The provided value for scope is not valid.');
    expectError(await post(server.tokenEndpoint, request, JSON_TYPE), 400, 'invalid_scope', 'AADSTS70011');
    const before = server.mints;
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(server.tokenEndpoint, request, JSON_TYPE)));
    answers.forEach(expectSuccess);
    expect(new Set(answers.map((a) => a.body.access_token)).size).to.equal(1);
    expect(server.mints - before).to.equal(1);
  });

  it('keeps one cache entry per target, resource and authorization details (Maskinporten), as Texas keys its cache', async () => {
    const target = 'nav:cache/scope';
    const details = [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:123456789' } }];
    const requests = [
      { identity_provider: 'maskinporten', target },
      { identity_provider: 'maskinporten', target, resource: 'https://a.example/' },
      { identity_provider: 'maskinporten', target, resource: 'https://b.example/' },
      { identity_provider: 'maskinporten', target, authorization_details: details },
    ];
    const before = server.mints;
    const first = await Promise.all(requests.map((request) => post(server.tokenEndpoint, request, JSON_TYPE)));
    first.forEach(expectSuccess);
    expect(new Set(first.map((a) => a.body.access_token)).size).to.equal(4);
    expect(server.mints - before).to.equal(4);
    const again = await Promise.all(requests.map((request) => post(server.tokenEndpoint, request, JSON_TYPE)));
    expect(again.map((a) => a.body.access_token)).to.deep.equal(first.map((a) => a.body.access_token));
    expect(server.mints - before).to.equal(4);
  });

  it("exchanges a user token for one carrying the user's sub, and refuses foreign or Bearer-prefixed ones", async () => {
    const userToken = await server.mintUserToken('user-1');
    const idporten = await server.mintUserToken('user-1', { identityProvider: 'idporten' });
    const exchanged = await post(server.exchangeEndpoint, { identity_provider: 'tokenx', target: 'dev-gcp:team:api', user_token: idporten }, JSON_TYPE);
    expectSuccess(exchanged);
    expect(decodeJwt(String(exchanged.body.access_token))).to.include({ sub: 'user-1', aud: 'dev-gcp:team:api' });

    const other = await startTexasServer();
    const refused = [await other.mintUserToken('user-3'), `Bearer ${userToken}`];
    await other.close();
    for (const user_token of refused) {
      const answer = await post(server.exchangeEndpoint, { identity_provider: 'entra_id', target: SCOPE, user_token }, JSON_TYPE);
      expectError(answer, 400, 'invalid_grant', 'AADSTS50013');
    }
  });

  it('introspects a valid token as active with its claims, and a revoked one as inactive with a reason', async () => {
    const { body } = await post(server.tokenEndpoint, { identity_provider: 'entra_id', target: 'dev-gcp:team:app' }, JSON_TYPE);
    const token = String(body.access_token);
    const active = await post(server.introspectionEndpoint, { identity_provider: 'entra_id', token }, JSON_TYPE);
    expect(active).to.deep.include({ status: 200 });
    expect(active.body).to.include({ active: true, sub: 'app', aud: 'api://dev-gcp.team.app' });
    server.revoke(token);
    expect(await server.verify(token)).to.equal(null);
    const inactive = await post(server.introspectionEndpoint, { identity_provider: 'entra_id', token }, JSON_TYPE);
    expect(inactive.status).to.equal(200);
    expect(Object.keys(inactive.body).sort()).to.deep.equal(['active', 'error']);
    expect(inactive.body.active).to.equal(false);
  });

  describe('introspection as Texas checks (src/oauth/token.rs: per provider key, iss, aud, exp, nbf, iat, 60 s leeway)', () => {
    const introspect = async (identity_provider: string, token: string) => (await post(server.introspectionEndpoint, { identity_provider, token }, JSON_TYPE)).body;

    it("is active for this app's user token of each provider, and copies its claims", async () => {
      for (const provider of ['entra_id', 'tokenx', 'idporten', 'maskinporten'] as const) {
        const token = await server.mintUserToken(`user-${provider}`, { identityProvider: provider, claims: { roles: ['reader'] } });
        const answer = await introspect(provider, token);
        expect(answer, provider).to.include({ active: true, sub: `user-${provider}`, aud: server.audiences[provider], iss: `${server.url}/${provider}` });
        expect(answer.roles).to.deep.equal(['reader']);
      }
      expect(server.audiences).to.deep.equal({
        entra_id: 'api://dev-gcp.team.app',
        tokenx: 'dev-gcp:team:app',
        idporten: 'dev-gcp:team:app',
        maskinporten: 'dev-gcp:team:app',
      });
      expect(await introspect('azuread', await server.mintUserToken('old-name'))).to.include({ active: true });
    });

    it("answers Texas's reasons for another provider, audience, issuer or key, and for expired, immature or unsigned tokens", async () => {
      const other = await generateKeyPair('ES256');
      const at = Math.floor(now / 1000);
      const foreign = (kid: string | undefined) =>
        new SignJWT({ sub: 'x', aud: server.audiences.entra_id, iss: `${server.url}/entra_id`, exp: at + 600, iat: at })
          .setProtectedHeader({ alg: 'ES256', ...(kid && { kid }) })
          .sign(other.privateKey);
      const cases: [string, string, string][] = [
        ['another provider', await server.mintUserToken('u', { identityProvider: 'tokenx' }), 'token can not be validated with this identity provider'],
        ['another audience', await server.mintUserToken('u', { audience: 'api://dev-gcp.team.other' }), 'invalid token: InvalidAudience'],
        ['another issuer', await server.mintUserToken('u', { claims: { iss: 'https://elsewhere' } }), 'invalid token: InvalidIssuer'],
        ['another key with our kid', await foreign('entra_id'), 'invalid token: InvalidSignature'],
        ['an unknown kid', await foreign('rotated'), 'token can not be validated with this identity provider'],
        ['no kid', await foreign(undefined), 'missing key id from token header'],
        ['expired beyond the leeway', await server.mintUserToken('u', { expiresInSeconds: -61 }), 'invalid token: ExpiredSignature'],
        ['nbf beyond the leeway', await server.mintUserToken('u', { notBeforeInSeconds: 61 }), 'invalid token: ImmatureSignature'],
        ['no aud', await server.mintUserToken('u', { claims: { aud: undefined } }), 'invalid token: Missing required claim: aud'],
        ['not a JWT', 'not-a-jwt', 'invalid token header: InvalidToken'],
      ];
      for (const [name, token, reason] of cases) {
        const answer = await introspect('entra_id', token);
        expect(answer, name).to.deep.equal({ active: false, error: reason });
      }
    });

    it('accepts exp and nbf within the 60 s leeway, and does not check aud for Maskinporten', async () => {
      expect(await introspect('entra_id', await server.mintUserToken('u', { expiresIn: -59_000 }))).to.include({ active: true });
      expect(await introspect('entra_id', await server.mintUserToken('u', { notBefore: 59_000 }))).to.include({ active: true });
      const maskinporten = await server.mintUserToken('org', { identityProvider: 'maskinporten', audience: 'https://any.api' });
      expect(await introspect('maskinporten', maskinporten)).to.include({ active: true });
    });

    it('answers 200 inactive for a provider that is not enabled, and 400 for a malformed request', async () => {
      const only = await startTexasServer({ enabled: ['entra_id'] });
      try {
        const answer = await post(only.introspectionEndpoint, { identity_provider: 'tokenx', token: 'x' }, JSON_TYPE);
        expect(answer).to.deep.equal({ status: 200, body: { active: false, error: "identity provider 'tokenx' is not enabled" } });
      } finally {
        await only.close();
      }
      expectError(await post(server.introspectionEndpoint, { identity_provider: 'entra_id' }, JSON_TYPE), 400, 'invalid_request', DESERIALIZE_START);
      expectError(await post(server.introspectionEndpoint, { identity_provider: 'google', token: 'x' }, JSON_TYPE), 400, 'invalid_request', DESERIALIZE_START);
    });

    it('introspects an exchanged token for this app as active, and a machine token for another app as InvalidAudience', async () => {
      const user = await server.mintUserToken('exchanged-user');
      const exchanged = await post(server.exchangeEndpoint, { identity_provider: 'entra_id', target: 'api://dev-gcp.team.app/.default', user_token: user }, JSON_TYPE);
      expect(await introspect('entra_id', String(exchanged.body.access_token))).to.include({ active: true, sub: 'exchanged-user' });
      const machine = await post(server.tokenEndpoint, { identity_provider: 'entra_id', target: SCOPE }, JSON_TYPE);
      expect(await introspect('entra_id', String(machine.body.access_token))).to.deep.equal({ active: false, error: 'invalid token: InvalidAudience' });
    });
  });

  describe('as strict as Entra ID about scopes', () => {
    for (const target of ['api://dev-gcp.team.api', 'api://dev-gcp.team.api/read', 'dev-gcp.team.api', 'dev-gcp:team', '/.default']) {
      it(`refuses the entra_id target ${target} with 400 invalid_scope AADSTS1002012 (token) and AADSTS70011 (exchange)`, async () => {
        const token = await post(server.tokenEndpoint, { identity_provider: 'entra_id', target }, JSON_TYPE);
        expectError(token, 400, 'invalid_scope', 'AADSTS1002012: The provided value for scope');
        const azuread = await post(server.tokenEndpoint, { identity_provider: 'azuread', target }, JSON_TYPE);
        expectError(azuread, 400, 'invalid_scope', 'AADSTS1002012');
        const user_token = await server.mintUserToken('strict-user');
        const exchange = await post(server.exchangeEndpoint, { identity_provider: 'entra_id', target, user_token }, JSON_TYPE);
        expectError(exchange, 400, 'invalid_scope', 'AADSTS70011');
      });
    }

    it('takes …/.default and <cluster>:<namespace>:<app> (audience api://<cluster>.<namespace>.<app>), and any TokenX or Maskinporten target', async () => {
      const short = await post(server.tokenEndpoint, { identity_provider: 'entra_id', target: 'dev-gcp:team:api' }, JSON_TYPE);
      expectSuccess(short);
      expect(decodeJwt(String(short.body.access_token)).aud).to.equal('api://dev-gcp.team.api');
      expectSuccess(await post(server.tokenEndpoint, { identity_provider: 'maskinporten', target: 'nav:a nav:b' }, JSON_TYPE));
      const user_token = await server.mintUserToken('tokenx-user', { identityProvider: 'tokenx' });
      expectSuccess(await post(server.exchangeEndpoint, { identity_provider: 'tokenx', target: 'dev-gcp:team:api', user_token }, JSON_TYPE));
    });
  });
});
