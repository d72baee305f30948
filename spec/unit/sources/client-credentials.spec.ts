import { expect } from 'chai';
import nock from 'nock';
import { inspect } from 'node:util';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { TokenError } from '../../../lib/errors.js';
import { useNock } from '../../support/nock.js';

const ORIGIN = 'https://login.microsoftonline.com';
const PATH = '/tenant-id/oauth2/v2.0/token';
const ENDPOINT = `${ORIGIN}${PATH}`;
const SCOPE = 'api://dev-gcp.team.other-api/.default';
const SECRET = 'SeCrEt~value.that-must-never-show';
const options = { tokenEndpoint: ENDPOINT, clientId: 'client-id', clientSecret: SECRET, retries: 0 };

describe('clientCredentials()', () => {
  useNock();

  it('posts the client credentials grant as a form body', async () => {
    let body: Record<string, string> = {};
    nock(ORIGIN)
      .post(PATH, (b) => ((body = b as Record<string, string>), true))
      .matchHeader('content-type', /^application\/x-www-form-urlencoded/)
      .reply(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'eyJ.a.b' });
    const token = await clientCredentials(options).getToken(SCOPE);
    expect(body).to.deep.equal({ grant_type: 'client_credentials', client_id: 'client-id', scope: SCOPE, client_secret: SECRET });
    expect(token.token).to.equal('eyJ.a.b');
  });

  it("accepts expires_in as a numeric string and token_type 'bearer' (Entra's v1 endpoint)", async () => {
    nock(ORIGIN).post(PATH).reply(200, { token_type: 'bearer', expires_in: '3599', access_token: 'opaque' });
    const before = Date.now();
    const token = await clientCredentials(options).getToken(SCOPE);
    expect(token.expiresAt).to.be.within(before + 3_598_000, Date.now() + 3_598_000); // less the second the server may have rounded away
  });

  it("keeps Entra ID's error fields on the TokenError", async () => {
    nock(ORIGIN)
      .post(PATH)
      .reply(401, {
        error: 'invalid_client',
        error_description:
          'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 255d1aef-0000\r\nCorrelation ID: fb3d2015-0000\r\nTimestamp: 2026-01-09 02:02:12Z',
        error_codes: [7000215],
        timestamp: '2026-01-09 02:02:12Z',
        trace_id: '255d1aef-0000',
        correlation_id: 'fb3d2015-0000',
        error_uri: 'https://login.microsoftonline.com/error?code=7000215',
      });
    const error = (await clientCredentials(options)
      .getToken(SCOPE)
      .catch((e: unknown) => e)) as TokenError;
    expect(error).to.be.instanceOf(TokenError);
    expect(error).to.deep.include({
      code: 'invalid_client',
      status: 401,
      errorCodes: [7000215],
      traceId: '255d1aef-0000',
      correlationId: 'fb3d2015-0000',
      scope: SCOPE,
      endpoint: ENDPOINT,
    });
    expect(error.message).to.equal(
      `token request for ${SCOPE} failed: 401 invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID. (${ENDPOINT})`,
    );
    expect(error.description).to.match(/^AADSTS7000215: .* Trace ID: 255d1aef-0000 Correlation ID/);
  });

  it('never shows the client secret in the error, its inspection or its JSON', async () => {
    nock(ORIGIN)
      .post(PATH)
      .reply(400, { error: 'invalid_scope', error_description: `AADSTS70011: echoed ${SECRET}` });
    const error = await clientCredentials(options)
      .getToken(SCOPE)
      .catch((e: unknown) => e);
    const views = [String(error), inspect(error, { depth: Infinity, showHidden: true }), JSON.stringify(error)];
    for (const view of views) expect(view).to.not.include(SECRET);
    expect(JSON.parse(JSON.stringify(error))).to.include({ name: 'TokenError', code: 'invalid_scope', status: 400 });
  });

  it('never shows the secret after a network failure (axios errors carry the request body)', async () => {
    nock(ORIGIN)
      .post(PATH)
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const error = (await clientCredentials(options)
      .getToken(SCOPE)
      .catch((e: unknown) => e)) as TokenError;
    expect(error.code).to.equal('network');
    expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(SECRET);
    expect(JSON.stringify(error)).to.not.include(SECRET);
  });

  it('reads its defaults from the AZURE_* variables', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: ENDPOINT,
      AZURE_APP_CLIENT_ID: 'env-client',
      AZURE_APP_CLIENT_SECRET: 'env-secret',
    });
    try {
      let body: Record<string, string> = {};
      nock(ORIGIN)
        .post(PATH, (b) => ((body = b as Record<string, string>), true))
        .reply(200, { token_type: 'Bearer', expires_in: 60, access_token: 't' });
      await clientCredentials().getToken(SCOPE);
      expect(body).to.include({ client_id: 'env-client', client_secret: 'env-secret' });
    } finally {
      process.env = saved;
    }
  });

  describe('missing configuration, refused at creation', () => {
    const ENDPOINT_ITEM = 'the token endpoint (option tokenEndpoint or AZURE_OPENID_CONFIG_TOKEN_ENDPOINT)';
    const ID_ITEM = 'the client id (option clientId or AZURE_APP_CLIENT_ID)';
    const CREDENTIAL_ITEM = 'a client secret or private key (option clientSecret or AZURE_APP_CLIENT_SECRET, or option privateJwk or AZURE_APP_JWK)';
    const VARIABLES = ['AZURE_OPENID_CONFIG_TOKEN_ENDPOINT', 'AZURE_APP_CLIENT_ID', 'AZURE_APP_CLIENT_SECRET', 'AZURE_APP_JWK'];
    let saved: NodeJS.ProcessEnv;
    beforeEach(() => {
      saved = { ...process.env };
      for (const name of VARIABLES) delete process.env[name];
    });
    afterEach(() => {
      process.env = saved;
    });

    const refused = (make: () => unknown, message: string) =>
      expect(make)
        .to.throw(TokenError)
        .that.satisfies((error: TokenError) => {
          expect(error.message).to.equal(message);
          expect(error.code).to.equal('configuration');
          return true;
        });

    it('names everything missing in one message when nothing is set', () => {
      refused(() => clientCredentials(), `clientCredentials(): ${ENDPOINT_ITEM}, ${ID_ITEM} and ${CREDENTIAL_ITEM} are not set`);
      refused(() => clientCredentials({}), `clientCredentials(): ${ENDPOINT_ITEM}, ${ID_ITEM} and ${CREDENTIAL_ITEM} are not set`);
    });

    it('names the two that are missing, whether from the options or the environment', () => {
      refused(() => clientCredentials({ clientId: 'c' }), `clientCredentials(): ${ENDPOINT_ITEM} and ${CREDENTIAL_ITEM} are not set`);
      process.env.AZURE_APP_CLIENT_SECRET = 'env-secret';
      refused(() => clientCredentials(), `clientCredentials(): ${ENDPOINT_ITEM} and ${ID_ITEM} are not set`);
    });

    it('names the one that is missing, with the endpoint on the error', () => {
      refused(() => clientCredentials({ tokenEndpoint: ENDPOINT, clientId: 'c', clientSecret: '' }), `clientCredentials(): ${CREDENTIAL_ITEM} is not set`);
      expect(() => clientCredentials({ tokenEndpoint: ENDPOINT, clientId: 'c' }))
        .to.throw(TokenError)
        .with.property('endpoint', ENDPOINT);
      refused(() => clientCredentials({ tokenEndpoint: ENDPOINT, clientSecret: 's', clientId: '' }), `clientCredentials(): ${ID_ITEM} is not set`);
      refused(() => clientCredentials({ tokenEndpoint: '', clientSecret: 's', clientId: 'c' }), `clientCredentials(): ${ENDPOINT_ITEM} is not set`);
    });

    it('takes AZURE_APP_JWK or a privateJwk option as the credential', () => {
      refused(() => clientCredentials({ tokenEndpoint: ENDPOINT, privateJwk: '{}' }), `clientCredentials(): ${ID_ITEM} is not set`);
      process.env.AZURE_APP_JWK = '{}';
      refused(() => clientCredentials({ tokenEndpoint: ENDPOINT }), `clientCredentials(): ${ID_ITEM} is not set`);
    });

    it('refuses an endpoint that is not a URL', () => {
      refused(
        () => clientCredentials({ tokenEndpoint: 'not a url', clientId: 'c', clientSecret: 's' }),
        'clientCredentials(): the token endpoint (option tokenEndpoint or AZURE_OPENID_CONFIG_TOKEN_ENDPOINT) is not a valid URL',
      );
    });
  });
});
