import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import sinon from 'sinon';
import { ASSERTION_TYPE, type EntraClientCredentials } from '../../../lib/testing/entra-assertion.js';
import { entraToken, type EntraEndpointContext } from '../../../lib/testing/entra-endpoint.js';
import { EntraError } from '../../../lib/testing/entra-error.js';

const TENANT = 'tenant-1';
const ENDPOINT = `http://127.0.0.1:1/${TENANT}/oauth2/v2.0/token`;
const NOW = 1_800_000_000;
const SCOPE = 'api://dev-gcp.team.api/.default';
const FORM = 'application/x-www-form-urlencoded';

describe('testing/entra-endpoint', () => {
  let context: EntraEndpointContext & { sign: sinon.SinonStub; beforeMint: sinon.SinonStub };
  let key: CryptoKey;
  const clients = new Map<string, EntraClientCredentials>();
  before(async () => {
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    clients.set('secret-client', { clientSecret: 'the-secret-value' });
    clients.set('jwk-client', { jwks: [{ ...(await exportJWK(pair.publicKey)), kid: 'key-1' }] });
  });
  beforeEach(() => {
    context = {
      tenantId: TENANT,
      tokenEndpoint: () => ENDPOINT,
      nowSeconds: () => NOW,
      lifetime: () => 1234,
      clients,
      sign: sinon.stub().callsFake((claims: JWTPayload, seconds: number) => Promise.resolve(`signed:${JSON.stringify(claims)}:${seconds}`)),
      beforeMint: sinon.stub().resolves(),
    };
  });

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const secretFields = (extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_id: 'secret-client',
    client_secret: 'the-secret-value',
    scope: SCOPE,
    ...extra,
  });
  const ask = (fields: Record<string, string>, { tenant = TENANT, contentType = FORM, seen = new Set<string>() } = {}) =>
    entraToken(context, tenant, contentType, form(fields), seen);
  const refusal = async (answer: Promise<unknown>): Promise<EntraError> => {
    try {
      await answer;
    } catch (error) {
      expect(error).to.be.an.instanceOf(EntraError);
      return error as EntraError;
    }
    return expect.fail('expected a refusal');
  };
  const refused = async (answer: Promise<unknown>, status: number, error: string, aadsts: number) => {
    const e = await refusal(answer);
    expect(e, e.message).to.include({ status, error, aadsts });
    return e;
  };
  const assertion = (claims: JWTPayload = {}) =>
    new SignJWT({ iss: 'jwk-client', sub: 'jwk-client', aud: ENDPOINT, jti: randomUUID(), iat: NOW, exp: NOW + 300, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .sign(key);

  it("mints for a registered client's secret, as Entra ID answers: Bearer, expires_in and ext_expires_in the lifetime, an app token for the scope's resource", async () => {
    const answer = await ask(secretFields());
    expect(answer).to.deep.equal({
      token_type: 'Bearer',
      expires_in: 1234,
      ext_expires_in: 1234,
      access_token: answer.access_token,
    });
    expect(context.sign.calledOnce).to.equal(true);
    expect(context.sign.firstCall.args).to.deep.equal([
      {
        aud: 'api://dev-gcp.team.api',
        azp: 'secret-client',
        appid: 'secret-client',
        sub: 'secret-client',
        oid: 'secret-client',
        tid: TENANT,
        idtyp: 'app',
        idp: 'entra_id',
      },
      1234,
    ]);
    expect(answer.access_token).to.equal(await context.sign.firstCall.returnValue);
    expect(context.beforeMint.calledOnce).to.equal(true);
    expect(context.beforeMint.calledBefore(context.sign)).to.equal(true);
  });

  it('reads a form body with a charset, and nothing else (JSON, or form fields sent as text, have no grant_type: AADSTS900144)', async () => {
    await ask(secretFields(), { contentType: `${FORM}; charset=utf-8` });
    const json = entraToken(context, TENANT, 'application/json', JSON.stringify(secretFields()), new Set());
    const error = await refused(json, 400, 'invalid_request', 900144);
    expect(error.text).to.equal("The request body must contain the following parameter: 'grant_type'.");
    // Form fields under another content type are not read either.
    await refused(ask(secretFields(), { contentType: 'text/plain' }), 400, 'invalid_request', 900144);
    await refused(ask(secretFields(), { contentType: '' }), 400, 'invalid_request', 900144);
  });

  it('refuses another tenant (AADSTS90002), another grant (AADSTS70003), and names the missing client_id or scope (AADSTS900144)', async () => {
    const tenant = await refused(ask(secretFields(), { tenant: 'other' }), 400, 'invalid_request', 90002);
    expect(tenant.text).to.match(/^Tenant 'other' not found\./);
    await refused(ask(secretFields({ grant_type: 'password' })), 400, 'unsupported_grant_type', 70003);
    const { client_id: _id, ...noClient } = secretFields();
    expect((await refused(ask(noClient), 400, 'invalid_request', 900144)).text).to.include("'client_id'");
    const { scope: _scope, ...noScope } = secretFields();
    expect((await refused(ask(noScope), 400, 'invalid_request', 900144)).text).to.include("'scope'");
  });

  it('refuses an unknown client (400 unauthorized_client, AADSTS700016), naming it and the tenant', async () => {
    const error = await refused(ask(secretFields({ client_id: 'nobody' })), 400, 'unauthorized_client', 700016);
    expect(error.text).to.match(/^Application with identifier 'nobody' was not found in the directory 'tenant-1'\./);
  });

  it('wants exactly one credential: none is AADSTS7000218, a secret and an assertion together AADSTS90023', async () => {
    const { client_secret: _secret, ...none } = secretFields();
    await refused(ask(none), 401, 'invalid_client', 7000218);
    await refused(ask(secretFields({ client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion() })), 400, 'invalid_request', 90023);
  });

  it('refuses a wrong secret, of any length, and a secret for a client that has none (AADSTS7000215), never echoing it', async () => {
    for (const secret of ['the-secret-valuf', 'the-secret', 'the-secret-value-and-more']) {
      const error = await refused(ask(secretFields({ client_secret: secret })), 401, 'invalid_client', 7000215);
      expect(error.message).not.to.include(secret);
    }
    await refused(ask(secretFields({ client_id: 'jwk-client' })), 401, 'invalid_client', 7000215);
  });

  it("checks an assertion against the endpoint's own URL and clock, with the jti set it is given", async () => {
    const fields = async (claims: JWTPayload = {}) => ({
      grant_type: 'client_credentials',
      client_id: 'jwk-client',
      scope: SCOPE,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(claims),
    });
    const seen = new Set<string>();
    const taken = await fields();
    expect(await ask(taken, { seen })).to.include({ token_type: 'Bearer' });
    expect(seen.size).to.equal(1);
    await refused(ask(taken, { seen }), 401, 'invalid_client', 50027);
    await refused(ask(await fields({ aud: 'http://127.0.0.1:1/other/oauth2/v2.0/token' })), 401, 'invalid_client', 50027);
    await refused(ask(await fields({ exp: NOW })), 401, 'invalid_client', 700024);
    await refused(ask({ ...(await fields()), client_assertion_type: 'jwt' }), 400, 'invalid_request', 90014);
    const { client_assertion_type: _type, ...noType } = await fields();
    await refused(ask(noType), 400, 'invalid_request', 90014);
  });

  it('refuses two scopes (AADSTS70011) and a scope without /.default (AADSTS1002012), after the credential', async () => {
    await refused(ask(secretFields({ scope: `${SCOPE} api://b/.default` })), 400, 'invalid_scope', 70011);
    for (const scope of ['api://dev-gcp.team.api', 'dev-gcp:team:api', '/.default', `${SCOPE} `]) {
      const error = await refused(ask(secretFields({ scope })), 400, 'invalid_scope', 1002012);
      expect(error.text).to.include(`scope ${scope} is not valid`);
    }
    await refused(ask(secretFields({ scope: 'api://x', client_secret: 'wrong' })), 401, 'invalid_client', 7000215);
  });

  it('mints nothing for a refused request, and passes on what the upstream throws', async () => {
    await refusal(ask(secretFields({ scope: 'api://x' })));
    await refusal(ask(secretFields({ client_secret: 'wrong' })));
    expect(context.beforeMint.called).to.equal(false);
    expect(context.sign.called).to.equal(false);
    context.beforeMint.rejects(new EntraError(503, 'temporarily_unavailable', 50001, 'The service is unavailable.'));
    await refused(ask(secretFields()), 503, 'temporarily_unavailable', 50001);
    expect(context.sign.called).to.equal(false);
  });
});
