import { expect } from 'chai';
import nock from 'nock';
import { texas } from '../../../lib/sources/texas.js';
import { TokenError } from '../../../lib/errors.js';
import { useNock } from '../../support/nock.js';

const ORIGIN = 'http://127.0.0.1:7164';
const PATH = '/api/v1/token';
const ENDPOINT = `${ORIGIN}${PATH}`;
const SCOPE = 'api://dev-gcp.team.other-api/.default';

describe('texas()', () => {
  useNock();

  it('posts JSON with identity_provider entra_id and the scope as target, and reads the answer', async () => {
    let body: unknown;
    let contentType: string | undefined;
    nock(ORIGIN)
      .post(PATH, (b) => ((body = b), true))
      .reply(function () {
        contentType = this.req.headers['content-type'];
        return [200, { access_token: 'tok-1', expires_in: 3599, token_type: 'Bearer' }];
      });
    const before = Date.now();
    const token = await texas({ endpoint: ENDPOINT }).getToken(SCOPE);
    expect(body).to.deep.equal({ identity_provider: 'entra_id', target: SCOPE });
    expect(contentType).to.match(/^application\/json/);
    expect(token.token).to.equal('tok-1');
    expect(token.expiresAt).to.be.within(before + 3_598_000, Date.now() + 3_598_000); // less the second the server may have rounded away
  });

  it('sends skip_cache: true only on a forced refresh', async () => {
    const bodies: unknown[] = [];
    nock(ORIGIN)
      .post(PATH, (b) => (bodies.push(b), true))
      .times(2)
      .reply(200, () => ({ access_token: `tok-${bodies.length}`, expires_in: 3599, token_type: 'Bearer' }));
    const source = texas({ endpoint: ENDPOINT });
    await source.getToken(SCOPE);
    await source.getToken(SCOPE); // cached
    expect((await source.getToken(SCOPE, { forceRefresh: true })).token).to.equal('tok-2');
    expect(bodies).to.deep.equal([
      { identity_provider: 'entra_id', target: SCOPE },
      { identity_provider: 'entra_id', target: SCOPE, skip_cache: true },
    ]);
  });

  it('can send a form body', async () => {
    let raw = '';
    nock(ORIGIN)
      .post(PATH, (b) => ((raw = new URLSearchParams(b as Record<string, string>).toString()), true))
      .matchHeader('content-type', /^application\/x-www-form-urlencoded/)
      .reply(200, { access_token: 't', expires_in: 60, token_type: 'Bearer' });
    await texas({ endpoint: ENDPOINT, bodyFormat: 'form', identityProvider: 'azuread' }).getToken(SCOPE);
    expect(raw).to.equal(new URLSearchParams({ identity_provider: 'azuread', target: SCOPE }).toString());
  });

  it('reads its endpoint from NAIS_TOKEN_ENDPOINT', async () => {
    const saved = process.env.NAIS_TOKEN_ENDPOINT;
    process.env.NAIS_TOKEN_ENDPOINT = ENDPOINT;
    try {
      nock(ORIGIN).post(PATH).reply(200, { access_token: 'env', expires_in: 60, token_type: 'Bearer' });
      expect((await texas().getToken(SCOPE)).token).to.equal('env');
    } finally {
      if (saved === undefined) delete process.env.NAIS_TOKEN_ENDPOINT;
      else process.env.NAIS_TOKEN_ENDPOINT = saved;
    }
  });

  it("turns Texas's error answer into a TokenError with its error, description and status", async () => {
    nock(ORIGIN).post(PATH).reply(400, {
      error: 'invalid_request',
      error_description: "identity provider 'entra_id' is not enabled",
    });
    const error = (await texas({ endpoint: ENDPOINT })
      .getToken(SCOPE)
      .catch((e: unknown) => e)) as TokenError;
    expect(error).to.be.instanceOf(TokenError);
    expect(error).to.include({
      code: 'invalid_request',
      status: 400,
      description: "identity provider 'entra_id' is not enabled",
      scope: SCOPE,
      endpoint: ENDPOINT,
    });
    expect(error.message).to.equal(`token request for ${SCOPE} failed: 400 invalid_request: identity provider 'entra_id' is not enabled (${ENDPOINT})`);
  });

  it('keeps a passed-through identity provider status such as 401 invalid_client', async () => {
    nock(ORIGIN).post(PATH).reply(401, {
      error: 'invalid_client',
      error_description: 'AADSTS7000215: Invalid client secret provided.',
    });
    const error = (await texas({ endpoint: ENDPOINT })
      .getToken(SCOPE)
      .catch((e: unknown) => e)) as TokenError;
    expect(error).to.include({ code: 'invalid_client', status: 401 });
  });

  it('refuses a missing endpoint at creation with a configuration error naming the variable', () => {
    const saved = process.env.NAIS_TOKEN_ENDPOINT;
    delete process.env.NAIS_TOKEN_ENDPOINT;
    try {
      expect(() => texas())
        .to.throw(TokenError, /NAIS_TOKEN_ENDPOINT/)
        .with.property('code', 'configuration');
    } finally {
      if (saved !== undefined) process.env.NAIS_TOKEN_ENDPOINT = saved;
    }
  });

  it('refuses plain http to a host that is not loopback unless allowed', () => {
    expect(() => texas({ endpoint: 'http://texas.example/api/v1/token' }))
      .to.throw(TokenError, /plain http/)
      .with.property('code', 'configuration');
    expect(() => texas({ endpoint: 'http://texas.example/api/v1/token', allowInsecure: true })).to.not.throw();
  });

  it('rejects a scope with whitespace for Entra ID, before any request', async () => {
    const error = await texas({ endpoint: ENDPOINT })
      .getToken('api://a/.default api://b/.default')
      .catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TypeError);
  });
});
