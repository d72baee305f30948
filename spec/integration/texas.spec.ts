import Ajv2020 from 'ajv/dist/2020.js';
import axios from 'axios';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import { attachToken } from '../../lib/interceptor/attach-token.js';
import { onBehalfOf } from '../../lib/sources/on-behalf-of.js';
import { texas } from '../../lib/sources/texas.js';
import { withUserToken } from '../../lib/context/user-token.js';
import type { TokenError } from '../../lib/errors.js';
import { startTexasServer, type TexasServer } from '../../lib/testing/texas-server.js';
import { startTexasProtectedApi } from '../support/protected-api.js';

// The Texas-faithful server checked against Texas's own OpenAPI description and its documented
// behaviour, and the package end to end through it to a protected API.

const spec = JSON.parse(readFileSync(new URL('../fixtures/texas-openapi.json', import.meta.url), 'utf8')) as { components: object };
const ajv = new Ajv2020.default({ strict: false });
ajv.addFormat('int64', true);
ajv.addSchema({ $id: 'texas', components: spec.components });
const schema = (name: string) => ajv.compile({ $ref: `texas#/components/schemas/${name}` });
const valid = (name: string, value: unknown) => {
  const check = schema(name);
  expect(check(value), `${name}: ${JSON.stringify(check.errors)}`).to.equal(true);
};

const SCOPE = 'api://dev-gcp.team.api/.default';

async function post(url: string, body: string, contentType?: string) {
  // A Blob without a type sends no content type at all (a string would send text/plain).
  const response = await fetch(url, { method: 'POST', body: contentType ? body : new Blob([body]), headers: contentType ? { 'content-type': contentType } : {} });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the Texas-faithful server', () => {
  let server: TexasServer;
  let now = 1_700_000_000_000;
  before(async () => {
    nock.restore();
    server = await startTexasServer({ now: () => now, upstreamDelay: 20, enabled: ['entra_id', 'maskinporten', 'tokenx'] });
  });
  after(async () => {
    await server.close();
    nock.activate();
  });

  it('answers exactly {access_token, expires_in, token_type}, valid by the OpenAPI spec', async () => {
    const request = { identity_provider: 'entra_id', target: SCOPE };
    valid('TokenRequest', request);
    const { status, body } = await post(server.tokenEndpoint, JSON.stringify(request), 'application/json; charset=utf-8');
    expect(status).to.equal(200);
    expect(Object.keys(body).sort()).to.deep.equal(['access_token', 'expires_in', 'token_type']);
    valid('TokenResponse', body);
  });

  const errorRows: [string, () => Promise<{ status: number; body: Record<string, unknown> }>, string][] = [
    ['no content type', () => post(server.tokenEndpoint, '{}'), 'unsupported media type:'],
    ['text/plain', () => post(server.tokenEndpoint, '{}', 'text/plain'), 'unsupported media type:'],
    ['a body that does not parse', () => post(server.tokenEndpoint, '{"identity', 'application/json'), 'Failed to deserialize'],
    ['an unknown identity_provider', () => post(server.tokenEndpoint, '{"identity_provider":"google","target":"x"}', 'application/json'), 'Failed to deserialize'],
    ['a missing target', () => post(server.tokenEndpoint, '{"identity_provider":"entra_id"}', 'application/json'), 'Failed to deserialize'],
    [
      'a provider not enabled',
      () => post(server.tokenEndpoint, 'identity_provider=idporten&target=x', 'application/x-www-form-urlencoded'),
      "identity provider 'idporten' is not enabled",
    ],
    [
      'tokenx on the token endpoint',
      () => post(server.tokenEndpoint, '{"identity_provider":"tokenx","target":"x"}', 'application/json'),
      "identity provider 'tokenx' does not support token requests",
    ],
    [
      'maskinporten on the exchange endpoint',
      () => post(server.exchangeEndpoint, '{"identity_provider":"maskinporten","target":"x","user_token":"u"}', 'application/json'),
      "identity provider 'maskinporten' does not support token exchange",
    ],
  ];
  for (const [name, send, description] of errorRows) {
    it(`answers ${name} with 400 invalid_request, exactly two fields, valid by the spec`, async () => {
      const { status, body } = await send();
      expect(status).to.equal(400);
      expect(Object.keys(body).sort()).to.deep.equal(['error', 'error_description']);
      expect(body.error).to.equal('invalid_request');
      expect(body.error_description).to.match(new RegExp(`^${description.replace(/[()]/g, '\\$&')}`));
      valid('ErrorResponse', body);
    });
  }

  it('serves its cache with a shrinking expires_in, and a new token only after lifetime - 120 s', async () => {
    const target = 'api://cache/.default';
    const form = `identity_provider=azuread&target=${encodeURIComponent(target)}`;
    const first = await post(server.tokenEndpoint, form, 'application/x-www-form-urlencoded');
    now += 1_000_000;
    const second = await post(server.tokenEndpoint, JSON.stringify({ identity_provider: 'entra_id', target }), 'application/json');
    expect(second.body.access_token).to.equal(first.body.access_token); // azuread and entra_id share entries
    expect(second.body.expires_in).to.equal(3599 - 1000);
    now += (3599 - 120) * 1000 - 1_000_000;
    const third = await post(server.tokenEndpoint, form, 'application/x-www-form-urlencoded');
    expect(third.body.access_token).to.not.equal(first.body.access_token);
    expect(third.body.expires_in).to.equal(3599);
  });

  it('mints anew on skip_cache, and shares one mint among concurrent requests', async () => {
    const target = 'api://coalesce/.default';
    const before = server.mints;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post(server.tokenEndpoint, JSON.stringify({ identity_provider: 'entra_id', target }), 'application/json')),
    );
    expect(new Set(answers.map((a) => a.body.access_token)).size).to.equal(1);
    expect(server.mints - before).to.equal(1);
    const skipped = await post(server.tokenEndpoint, JSON.stringify({ identity_provider: 'entra_id', target, skip_cache: true }), 'application/json');
    expect(skipped.body.access_token).to.not.equal(answers[0]!.body.access_token);
    expect(server.mints - before).to.equal(2);
  });

  it('gives short tokens half their lifetime in its cache', async () => {
    server.setLifetime(100_000);
    try {
      const target = 'api://short/.default';
      const body = JSON.stringify({ identity_provider: 'entra_id', target });
      const first = await post(server.tokenEndpoint, body, 'application/json');
      now += 49_000;
      expect((await post(server.tokenEndpoint, body, 'application/json')).body.access_token).to.equal(first.body.access_token);
      now += 1_000;
      expect((await post(server.tokenEndpoint, body, 'application/json')).body.access_token).to.not.equal(first.body.access_token);
    } finally {
      server.setLifetime(3_599_000);
    }
  });
});

describe('texas() end to end through the Texas-faithful server to a protected API', () => {
  let server: TexasServer;
  let api: Awaited<ReturnType<typeof startTexasProtectedApi>>;
  before(async () => {
    nock.restore();
    server = await startTexasServer({ upstreamDelay: 10 });
    api = await startTexasProtectedApi(server);
  });
  after(async () => {
    await api.close();
    await server.close();
    nock.activate();
  });

  it('sends requests that validate against the spec and reaches the API', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: texas({ endpoint: server.tokenEndpoint }), scope: SCOPE });
    const { data } = await instance.get<unknown>('/things');
    expect(data).to.deep.include({ path: '/things', aud: 'api://dev-gcp.team.api' });
    valid('TokenRequest', server.requests.at(-1)!.body);
  });

  it('answers a revoked token with one 401, one skip_cache refresh, one retry, and success', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: texas({ endpoint: server.tokenEndpoint }), scope: 'api://revoke/.default' });
    await instance.get('/warm');
    const first = api.seen.at(-1)!.token!;
    api.revoke(first);
    const requestsBefore = server.requests.length;
    const seenBefore = api.seen.length;
    const response = await instance.get('/things');
    expect(response.status).to.equal(200);
    expect(api.seen.slice(seenBefore).map((s) => s.status)).to.deep.equal([401, 200]);
    const refreshes = server.requests.slice(requestsBefore);
    expect(refreshes.map((r) => r.body)).to.deep.equal([{ identity_provider: 'entra_id', target: 'api://revoke/.default', skip_cache: true }]);
    valid('TokenRequest', refreshes[0]!.body);
  });

  it('makes 4 token requests for 200 concurrent requests over 4 scopes on a cold cache', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: texas({ endpoint: server.tokenEndpoint }) });
    const scopes = [1, 2, 3, 4].map((n) => `api://herd-${n}/.default`);
    const before = server.requests.length;
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => instance.get('/herd', { token: { scope: scopes[i % 4] } })));
    expect(responses.every((r) => r.status === 200)).to.equal(true);
    expect(server.requests.length - before).to.equal(4);
  });

  it("passes Texas's error through as a TokenError with its status", async () => {
    server.failNext(1, 400, 'invalid_scope', 'AADSTS70011: The provided value for the input parameter scope is not valid.');
    const error = (await texas({ endpoint: server.tokenEndpoint })
      .getToken('api://bad/.default')
      .catch((e: unknown) => e)) as TokenError;
    expect(error).to.include({ code: 'invalid_scope', status: 400 });
  });

  it('exchanges a user token on behalf of the user, and refuses an expired one', async () => {
    const instance = axios.create({ baseURL: api.url });
    attachToken(instance, { source: onBehalfOf({ endpoint: server.exchangeEndpoint }), scope: SCOPE });
    const alice = await server.mintUserToken('alice');
    const { data } = await withUserToken(alice, () => instance.get<{ sub: string }>('/me'));
    expect(data.sub).to.equal('alice');
    valid('TokenExchangeRequest', server.requests.at(-1)!.body);
    const expired = await server.mintUserToken('bob', { expiresIn: -10_000 });
    const error = (await withUserToken(expired, () => instance.get('/me')).catch((e: unknown) => e)) as TokenError;
    expect(error).to.include({ code: 'invalid_grant', status: 400 });
    expect(JSON.stringify(error)).to.not.include(expired);
  });
});
