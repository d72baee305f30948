import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import nock from 'nock';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { fromEnv } from '../../../lib/sources/from-env.js';
import { TokenError } from '../../../lib/errors.js';
import { useNock } from '../../support/nock.js';

// clientCredentials({ privateJwk }) against a nock'ed Entra ID endpoint: the exact form it posts.
// spec/integration/private-key-jwt.spec.ts runs the same flow against oidc-provider.

const ORIGIN = 'https://login.microsoftonline.com';
const PATH = '/tenant-id/oauth2/v2.0/token';
const ENDPOINT = `${ORIGIN}${PATH}`;
const SCOPE = 'api://dev-gcp.team.other-api/.default';
const CLIENT_ID = 'client-id';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateJwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'key-1', alg: 'RS256' };
const jwks = createLocalJWKSet({ keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'key-1', alg: 'RS256' }] });
const options = { tokenEndpoint: ENDPOINT, clientId: CLIENT_ID, privateJwk, retries: 0 };
const answer = { token_type: 'Bearer', expires_in: 3599, access_token: 'eyJ.a.b' };

function captureForms(times = 1, status = 200, body: object = answer): Record<string, string>[] {
  const forms: Record<string, string>[] = [];
  nock(ORIGIN)
    .post(PATH, (form) => (forms.push(form as Record<string, string>), true))
    .matchHeader('content-type', /^application\/x-www-form-urlencoded/)
    .times(times)
    .reply(status, body);
  return forms;
}

function withEnv(vars: Record<string, string | undefined>, run: () => Promise<void> | void): Promise<void> {
  const saved = { ...process.env };
  for (const key of ['AZURE_OPENID_CONFIG_TOKEN_ENDPOINT', 'AZURE_APP_CLIENT_ID', 'AZURE_APP_CLIENT_SECRET', 'AZURE_APP_JWK']) {
    delete process.env[key];
  }
  Object.assign(process.env, vars);
  return Promise.resolve()
    .then(run)
    .finally(() => {
      process.env = saved;
    });
}

describe('clientCredentials({ privateJwk })', () => {
  useNock();

  it('posts a client assertion instead of a secret', async () => {
    const forms = captureForms();
    const token = await clientCredentials(options).getToken(SCOPE);
    expect(token.token).to.equal('eyJ.a.b');
    const { client_assertion: assertion, ...rest } = forms[0]!;
    expect(rest).to.deep.equal({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      scope: SCOPE,
      client_assertion_type: ASSERTION_TYPE,
    });
    expect(decodeProtectedHeader(assertion!)).to.deep.equal({ alg: 'RS256', kid: 'key-1', typ: 'JWT' });
    const { payload } = await jwtVerify(assertion!, jwks, { issuer: CLIENT_ID, subject: CLIENT_ID, audience: ENDPOINT });
    expect(payload.nbf).to.equal(payload.iat);
    expect(payload.exp! - payload.iat!).to.be.within(60, 600);
  });

  it('signs a new assertion, with a new jti, for every token request', async () => {
    const forms = captureForms(2);
    const source = clientCredentials(options);
    await source.getToken(SCOPE);
    await source.getToken(SCOPE, { forceRefresh: true });
    const jtis = await Promise.all(forms.map(async (form) => (await jwtVerify(form.client_assertion!, jwks)).payload.jti));
    expect(forms).to.have.length(2);
    expect(forms[0]!.client_assertion).to.not.equal(forms[1]!.client_assertion);
    expect(jtis[0]).to.be.a('string').and.not.equal(jtis[1]);
  });

  it('takes the JWK as a JSON string', async () => {
    const forms = captureForms();
    await clientCredentials({ ...options, privateJwk: JSON.stringify(privateJwk) }).getToken(SCOPE);
    await jwtVerify(forms[0]!.client_assertion!, jwks);
  });

  it('never shows the assertion or the key in an error, its inspection or its JSON', async () => {
    const forms = captureForms(1, 401, {
      error: 'invalid_client',
      error_description: 'AADSTS700027: Client assertion failed signature validation.',
      error_codes: [700027],
    });
    const error = await clientCredentials(options)
      .getToken(SCOPE)
      .then(
        () => expect.fail('expected a TokenError'),
        (e: unknown) => e as TokenError,
      );
    expect(error).to.be.instanceOf(TokenError);
    expect(error.code).to.equal('invalid_client');
    expect(error.errorCodes).to.deep.equal([700027]);
    const assertion = forms[0]!.client_assertion!;
    for (const text of [error.message, inspect(error, { depth: Infinity, showHidden: true }), JSON.stringify(error)]) {
      expect(text).to.not.include(assertion);
      expect(text).to.not.include(assertion.split('.')[2]!); // the signature alone
      expect(text).to.not.include(privateJwk.d!.slice(0, 16));
    }
  });

  it('redacts the assertion when the endpoint echoes it back in its description', async () => {
    let assertion = '';
    nock(ORIGIN)
      .post(PATH, (form: Record<string, string>) => ((assertion = form.client_assertion!), true))
      .reply(400, () => ({ error: 'invalid_request', error_description: `bad assertion ${assertion}` }));
    const error = (await clientCredentials(options)
      .getToken(SCOPE)
      .catch((e: unknown) => e)) as TokenError;
    expect(error).to.be.instanceOf(TokenError);
    expect(error.message).to.include('[REDACTED]');
    expect(inspect(error, { depth: Infinity })).to.not.include(assertion);
  });

  describe('configuration, checked at creation', () => {
    const configurationError = (make: () => unknown, message: RegExp): void => {
      expect(make).to.throw(TokenError, message).with.property('code', 'configuration');
    };

    it('refuses a JWK without kid', () => {
      const { kid: _kid, ...noKid } = privateJwk;
      configurationError(() => clientCredentials({ ...options, privateJwk: noKid }), /^clientCredentials\(\): option privateJwk has no kid/);
    });

    it('refuses a public key', () => {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
      configurationError(() => clientCredentials({ ...options, privateJwk: publicJwk }), /option privateJwk is a public key/);
    });

    it('refuses malformed JSON in AZURE_APP_JWK, naming the variable and not its content', async () => {
      const text = JSON.stringify(privateJwk).replace('"kty"', 'kty');
      await withEnv({ AZURE_APP_JWK: text }, () => {
        let caught: unknown;
        try {
          clientCredentials({ tokenEndpoint: ENDPOINT, clientId: CLIENT_ID });
        } catch (error) {
          caught = error;
        }
        expect(caught).to.be.instanceOf(TokenError);
        expect((caught as TokenError).message).to.equal('clientCredentials(): AZURE_APP_JWK is not valid JSON');
        expect(inspect(caught, { depth: Infinity, showHidden: true })).to.not.include(privateJwk.d!.slice(0, 16));
      });
    });

    it('refuses both a secret and a key given as options', () => {
      configurationError(() => clientCredentials({ ...options, clientSecret: 's' }), /give clientSecret or privateJwk, not both/);
    });

    it('refuses a privateJwk that is neither an object nor a string with a TypeError', () => {
      expect(() => clientCredentials({ ...options, privateJwk: 42 as unknown as string })).to.throw(
        TypeError,
        'axios-m2m: expected privateJwk to be a JWK object or its JSON string, got number 42',
      );
    });
  });

  describe('defaults from the environment', () => {
    it('uses AZURE_APP_JWK when no client secret is set', async () => {
      await withEnv({ AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: ENDPOINT, AZURE_APP_CLIENT_ID: CLIENT_ID, AZURE_APP_JWK: JSON.stringify(privateJwk) }, async () => {
        const forms = captureForms();
        await clientCredentials().getToken(SCOPE);
        expect(forms[0]).to.include({ client_assertion_type: ASSERTION_TYPE }).and.not.have.property('client_secret');
      });
    });

    it('keeps using AZURE_APP_CLIENT_SECRET when both it and AZURE_APP_JWK are set', async () => {
      await withEnv(
        {
          AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: ENDPOINT,
          AZURE_APP_CLIENT_ID: CLIENT_ID,
          AZURE_APP_CLIENT_SECRET: 'env-secret',
          AZURE_APP_JWK: JSON.stringify(privateJwk),
        },
        async () => {
          const forms = captureForms();
          await clientCredentials().getToken(SCOPE);
          expect(forms[0]).to.include({ client_secret: 'env-secret' }).and.not.have.property('client_assertion');
        },
      );
    });

    it('uses an explicit privateJwk even when AZURE_APP_CLIENT_SECRET is set', async () => {
      await withEnv({ AZURE_APP_CLIENT_SECRET: 'env-secret' }, async () => {
        const forms = captureForms();
        await clientCredentials(options).getToken(SCOPE);
        expect(forms[0]).to.have.property('client_assertion');
        expect(forms[0]).to.not.have.property('client_secret');
      });
    });
  });

  describe('fromEnv({ env })', () => {
    const azure = { AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: ENDPOINT, AZURE_APP_CLIENT_ID: CLIENT_ID };

    it('chooses private_key_jwt when the env has AZURE_APP_JWK and no secret', async () => {
      await withEnv({ AZURE_APP_CLIENT_SECRET: 'process-env-secret' }, async () => {
        const forms = captureForms();
        await fromEnv({ env: { ...azure, AZURE_APP_JWK: JSON.stringify(privateJwk) } }).getToken(SCOPE);
        // process.env's secret must not leak into a source built from the env given.
        expect(forms[0]).to.include({ client_assertion_type: ASSERTION_TYPE }).and.not.have.property('client_secret');
      });
    });

    it('chooses the secret when the env has both', async () => {
      const forms = captureForms();
      await fromEnv({ env: { ...azure, AZURE_APP_CLIENT_SECRET: 's3cret', AZURE_APP_JWK: JSON.stringify(privateJwk) } }).getToken(SCOPE);
      expect(forms[0]).to.include({ client_secret: 's3cret' }).and.not.have.property('client_assertion');
    });

    it('names both AZURE_APP_CLIENT_SECRET and AZURE_APP_JWK when neither is set', () => {
      expect(() => fromEnv({ env: azure }))
        .to.throw(
          TokenError,
          'fromEnv(): AZURE_APP_CLIENT_SECRET (or AZURE_APP_JWK) is not set; client credentials need it beside AZURE_OPENID_CONFIG_TOKEN_ENDPOINT and AZURE_APP_CLIENT_ID',
        )
        .with.property('code', 'configuration');
    });

    it('checks the JWK at once, naming AZURE_APP_JWK', () => {
      expect(() => fromEnv({ env: { ...azure, AZURE_APP_JWK: '{"kty":"RSA"' } }))
        .to.throw(TokenError, 'fromEnv(): AZURE_APP_JWK is not valid JSON')
        .with.property('code', 'configuration');
    });
  });
});
