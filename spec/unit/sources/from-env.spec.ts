import { expect } from 'chai';
import nock from 'nock';
import { fromEnv } from '../../../lib/sources/from-env.js';
import { TokenError } from '../../../lib/errors.js';

const SCOPE = 'api://dev-gcp.team.api/.default';
const azure = {
  AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: 'https://login.microsoftonline.com/t/oauth2/v2.0/token',
  AZURE_APP_CLIENT_ID: 'client',
  AZURE_APP_CLIENT_SECRET: 'secret',
};

describe('fromEnv({ env })', () => {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => nock.cleanAll());

  it('chooses Texas when NAIS_TOKEN_ENDPOINT is set, even beside AZURE_* variables', async () => {
    const texas = nock('http://127.0.0.1:7164')
      .post('/api/v1/token', { identity_provider: 'entra_id', target: SCOPE })
      .reply(200, { access_token: 'from-texas', expires_in: 3599, token_type: 'Bearer' });
    const source = fromEnv({ env: { ...azure, NAIS_TOKEN_ENDPOINT: 'http://127.0.0.1:7164/api/v1/token' } });
    expect((await source.getToken(SCOPE)).token).to.equal('from-texas');
    expect(texas.isDone()).to.equal(true);
  });

  it("takes the source's options beside env, and reads process.env without env", async () => {
    expect(() => fromEnv({ env: azure, maxEntries: 0 })).to.throw(TypeError, /maxEntries/);
    expect(() => fromEnv({ env: { NAIS_TOKEN_ENDPOINT: 'http://127.0.0.1:7164/api/v1/token' }, retries: -1 })).to.throw(TypeError, /retries/);
    const saved = process.env.NAIS_TOKEN_ENDPOINT;
    process.env.NAIS_TOKEN_ENDPOINT = 'http://127.0.0.1:7164/api/v1/token';
    try {
      const texas = nock('http://127.0.0.1:7164').post('/api/v1/token').reply(200, { access_token: 'from-process-env', expires_in: 3599 });
      expect((await fromEnv({ timeout: 5_000 }).getToken(SCOPE)).token).to.equal('from-process-env');
      expect(texas.isDone()).to.equal(true);
    } finally {
      if (saved === undefined) delete process.env.NAIS_TOKEN_ENDPOINT;
      else process.env.NAIS_TOKEN_ENDPOINT = saved;
    }
  });

  it('still takes the deprecated fromEnv(env, options), told apart by the variables it holds', async () => {
    const entra = nock('https://login.microsoftonline.com').post('/t/oauth2/v2.0/token').reply(200, { access_token: 'positional', expires_in: 3599 });
    expect((await fromEnv(azure).getToken(SCOPE)).token).to.equal('positional');
    expect(entra.isDone()).to.equal(true);
    expect(() => fromEnv(azure, { maxEntries: 0 })).to.throw(TypeError, /maxEntries/);
    expect(() => fromEnv({ AZURE_APP_CLIENT_ID: 'c' })).to.throw(TokenError, /AZURE_OPENID_CONFIG_TOKEN_ENDPOINT/);
    expect(() => fromEnv('NAIS' as never)).to.throw(TypeError, /fromEnv\(\) options/);
  });

  it('chooses client credentials from the AZURE_* variables otherwise', async () => {
    const entra = nock('https://login.microsoftonline.com')
      .post('/t/oauth2/v2.0/token', (body: Record<string, string>) => body.client_secret === 'secret' && body.client_id === 'client')
      .reply(200, { access_token: 'from-entra', expires_in: 3599, token_type: 'Bearer' });
    expect((await fromEnv({ env: azure }).getToken(SCOPE)).token).to.equal('from-entra');
    expect(entra.isDone()).to.equal(true);
  });

  it('throws a configuration error naming the variables it looked for when none is set', () => {
    expect(() => fromEnv({ env: {} }))
      .to.throw(TokenError)
      .that.satisfies((error: TokenError) => {
        expect(error.code).to.equal('configuration');
        for (const name of ['NAIS_TOKEN_ENDPOINT', 'AZURE_OPENID_CONFIG_TOKEN_ENDPOINT', 'AZURE_APP_CLIENT_ID', 'AZURE_APP_CLIENT_SECRET']) {
          expect(error.message).to.include(name);
        }
        return true;
      });
  });

  it('says exactly what to set when nothing is', () => {
    expect(() => fromEnv({ env: {} })).to.throw(
      TokenError,
      /^fromEnv\(\): no token source configured: set NAIS_TOKEN_ENDPOINT \(Texas\), or AZURE_OPENID_CONFIG_TOKEN_ENDPOINT, AZURE_APP_CLIENT_ID and AZURE_APP_CLIENT_SECRET or AZURE_APP_JWK \(NAIS client credentials\), or AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH \(Azure SDK client credentials\), or AZURE_FEDERATED_TOKEN_FILE with AZURE_TENANT_ID and AZURE_CLIENT_ID \(workload identity\)$/,
    );
  });

  describe('when only some AZURE_* variables are set, names every one missing and those that are set', () => {
    const cases: [Record<string, string>, string][] = [
      [
        { AZURE_APP_CLIENT_ID: 'c' },
        'fromEnv(): AZURE_OPENID_CONFIG_TOKEN_ENDPOINT and AZURE_APP_CLIENT_SECRET (or AZURE_APP_JWK) are not set; client credentials need them beside AZURE_APP_CLIENT_ID',
      ],
      [
        { AZURE_APP_CLIENT_SECRET: 'the-secret' },
        'fromEnv(): AZURE_OPENID_CONFIG_TOKEN_ENDPOINT and AZURE_APP_CLIENT_ID are not set; client credentials need them beside AZURE_APP_CLIENT_SECRET',
      ],
      [
        { AZURE_APP_CLIENT_ID: 'c', AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: azure.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT },
        'fromEnv(): AZURE_APP_CLIENT_SECRET (or AZURE_APP_JWK) is not set; client credentials need it beside AZURE_OPENID_CONFIG_TOKEN_ENDPOINT and AZURE_APP_CLIENT_ID',
      ],
      [
        { AZURE_APP_JWK: '{"kid":"k"}', AZURE_APP_CLIENT_SECRET: 'the-secret', AZURE_APP_CLIENT_ID: 'c' },
        'fromEnv(): AZURE_OPENID_CONFIG_TOKEN_ENDPOINT is not set; client credentials need it beside AZURE_APP_CLIENT_ID, AZURE_APP_CLIENT_SECRET and AZURE_APP_JWK',
      ],
    ];
    for (const [env, message] of cases) {
      it(Object.keys(env).join(', '), () => {
        expect(() => fromEnv({ env }))
          .to.throw(TokenError)
          .that.satisfies((error: TokenError) => {
            expect(error.message).to.equal(message);
            expect(error.code).to.equal('configuration');
            expect(JSON.stringify(error)).to.not.include('the-secret');
            return true;
          });
      });
    }
  });

  it('reads process.env by default', () => {
    const saved = { ...process.env };
    try {
      for (const key of ['NAIS_TOKEN_ENDPOINT', ...Object.keys(azure), 'AZURE_APP_JWK']) delete process.env[key];
      expect(() => fromEnv()).to.throw(TokenError, /NAIS_TOKEN_ENDPOINT/);
      process.env.NAIS_TOKEN_ENDPOINT = 'http://127.0.0.1:7164/api/v1/token';
      expect(fromEnv()).to.have.property('getToken');
    } finally {
      process.env = saved;
    }
  });
});
