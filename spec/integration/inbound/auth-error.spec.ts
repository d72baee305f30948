import { expect } from 'chai';
import nock from 'nock';
import { inspect } from 'node:util';
import { AuthError, isAuthError } from '../../../lib/inbound/auth-error.js';
import { requireToken, requireTokenKoa } from '../../../lib/inbound/require-token.js';
import { fakeJwt } from '../../support/fake-jwt.js';
import { startScriptedTexas, type ScriptedTexas } from '../../support/scripted-texas.js';

// requireToken's refusals, one by one, through the middleware function itself: status, headers,
// code, expose; and no token in any of them, even when Texas echoes it back.

const TOKEN = fakeJwt({ sub: 'caller', jti: '4f9a7c1e2b3d5e6f' });

function refusal(middleware: ReturnType<typeof requireToken>, authorization?: string): Promise<AuthError> {
  return new Promise((resolve, reject) => {
    middleware({ headers: authorization === undefined ? {} : { authorization } }, undefined, (error?: unknown) =>
      isAuthError(error) ? resolve(error) : reject(new Error(`next(${String(error)})`)),
    );
  });
}

describe('AuthError (what requireToken refuses with)', () => {
  let texas: ScriptedTexas;
  before(() => nock.restore());
  after(() => nock.activate());
  afterEach(() => texas?.close());

  it('no token: 401, WWW-Authenticate: Bearer, code missing_token, exposed', async () => {
    texas = await startScriptedTexas(() => ({ status: 200, body: { active: true } }));
    const error = await refusal(requireToken({ endpoint: texas.endpoint }));
    expect(error).to.be.instanceOf(AuthError).and.to.be.instanceOf(Error);
    expect(error).to.deep.include({ name: 'AuthError', code: 'missing_token', status: 401, statusCode: 401, expose: true });
    expect(error.headers).to.deep.equal({ 'WWW-Authenticate': 'Bearer' });
    expect(texas.count).to.equal(0);
  });

  it("inactive: 401 invalid_token with Texas's reason, unless the reason shows the token", async () => {
    texas = await startScriptedTexas(() => ({ status: 200, body: { active: false, error: 'invalid token: ExpiredSignature' } }));
    const error = await refusal(requireToken({ endpoint: texas.endpoint }), `Bearer ${TOKEN}`);
    expect(error).to.deep.include({ code: 'invalid_token', status: 401, reason: 'invalid token: ExpiredSignature' });
    expect(error.headers).to.deep.equal({ 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    expect(error.message).to.equal('bearer token refused: invalid token: ExpiredSignature');
    texas.script(() => ({ status: 200, body: { active: false, error: `bad token ${TOKEN}` } }));
    const echoed = await refusal(requireToken({ endpoint: texas.endpoint }), `Bearer ${TOKEN}`);
    expect(echoed.reason).to.equal('token is not active');
    expect(inspect(echoed, { depth: Infinity, showHidden: true }) + JSON.stringify(echoed)).to.not.include(TOKEN);
  });

  it('authorize false: 403 insufficient_scope', async () => {
    texas = await startScriptedTexas(() => ({ status: 200, body: { active: true, sub: 'x' } }));
    const error = await refusal(requireToken({ endpoint: texas.endpoint, authorize: () => false }), `Bearer ${TOKEN}`);
    expect(error).to.deep.include({ code: 'insufficient_scope', status: 403, expose: true });
    expect(error.headers).to.deep.equal({ 'WWW-Authenticate': 'Bearer error="insufficient_scope"' });
  });

  it('Texas could not answer: 503 temporarily_unavailable, Retry-After, not exposed, the TokenError as cause, no token anywhere', async () => {
    texas = await startScriptedTexas(() => ({ status: 400, body: { error: 'invalid_request', error_description: `Failed to deserialize: ${TOKEN}` } }));
    const error = await refusal(requireToken({ endpoint: texas.endpoint, retryAfter: 2_500 }), `Bearer ${TOKEN}`);
    // The option and the property in milliseconds, the header in whole seconds rounded up.
    expect(error).to.deep.include({ code: 'temporarily_unavailable', status: 503, statusCode: 503, expose: false, retryAfter: 2_500 });
    expect(error.headers).to.deep.equal({ 'Retry-After': '3' });
    expect(error.cause).to.deep.include({ code: 'invalid_request', status: 400 });
    expect(error.message).to.match(/^could not validate the bearer token: introspection of a token \(entra_id\) failed: 400 invalid_request/);
    expect(inspect(error, { depth: Infinity, showHidden: true }) + JSON.stringify(error) + error.stack).to.not.include(TOKEN);
    const byDefault = await refusal(requireToken({ endpoint: texas.endpoint }), `Bearer ${TOKEN}`);
    expect(byDefault).to.deep.include({ retryAfter: 5_000, headers: { 'Retry-After': '5' } });
    const none = await refusal(requireToken({ endpoint: texas.endpoint, retryAfter: 0 }), `Bearer ${TOKEN}`);
    expect(none.headers).to.deep.equal({});
  });

  it('takes the scheme in any case and nothing but Bearer', async () => {
    texas = await startScriptedTexas(() => ({ status: 200, body: { active: true } }));
    const middleware = requireToken({ endpoint: texas.endpoint });
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearertoken', `Bearer ${TOKEN} extra`, `Token ${TOKEN}`, `Bearer\t${TOKEN}`]) {
      expect((await refusal(middleware, header)).code, header).to.equal('missing_token');
    }
    expect(texas.count).to.equal(0);
  });

  it('checks its options at once', () => {
    const endpoint = 'http://127.0.0.1:1/api/v1/introspect';
    expect(() => requireToken({ endpoint, authorize: 'admin' as never })).to.throw(TypeError, /authorize/);
    expect(() => requireToken({ endpoint, retryAfter: -1 })).to.throw(TypeError, /retryAfter/);
    expect(() => requireToken({ introspection: {} as never })).to.throw(TypeError, /introspection/);
    const validator = { identityProvider: 'tokenx', endpoint, size: 0, clear() {}, validate: async () => ({ active: false as const, reason: 'x' }) } as const;
    expect(() => requireToken({ introspection: validator, identityProvider: 'entra_id' })).to.throw(TypeError, /differs/);
  });

  it("takes azuread for an entra_id validator (azuread is entra_id's older name), and still refuses another provider", () => {
    const endpoint = 'http://127.0.0.1:1/api/v1/introspect';
    const entra = { identityProvider: 'entra_id', endpoint, size: 0, clear() {}, validate: async () => ({ active: false as const, reason: 'x' }) } as const;
    expect(() => requireToken({ introspection: entra, identityProvider: 'azuread' })).to.not.throw();
    expect(() => requireToken({ introspection: entra, identityProvider: 'tokenx' })).to.throw(TypeError, /differs/);
  });

  it('names the function the user called when the introspection endpoint is missing', () => {
    const saved = process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
    delete process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
    try {
      expect(() => requireToken()).to.throw(/^requireToken\(\): the introspection endpoint \(option endpoint or NAIS_TOKEN_INTROSPECTION_ENDPOINT\) is not set$/);
      expect(() => requireTokenKoa()).to.throw(/^requireTokenKoa\(\): the introspection endpoint/);
    } finally {
      if (saved !== undefined) process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT = saved;
    }
  });
});
