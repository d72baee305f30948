import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import sinon from 'sinon';
import { ASSERTION_LIFETIME_SECONDS, importAssertionKey, signClientAssertion } from '../../../lib/sources/client-assertion.js';
import { TokenError } from '../../../lib/errors.js';

const WHAT = 'option privateJwk';
const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const AUDIENCE = 'https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token';

function rsaJwk(extra: Partial<JWK> = {}, modulusLength = 2048): { privateJwk: JWK; publicJwk: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  return {
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'key-1', ...extra },
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'key-1', ...extra },
  };
}

const rsa = rsaJwk();

function expectConfigurationError(value: unknown, message: RegExp): TokenError {
  let caught: unknown;
  try {
    importAssertionKey(value, WHAT);
  } catch (error) {
    caught = error;
  }
  expect(caught).to.be.instanceOf(TokenError);
  const error = caught as TokenError;
  expect(error.code).to.equal('configuration');
  expect(error.message).to.match(message);
  expect(error.message.startsWith(WHAT)).to.equal(true);
  return error;
}

describe('importAssertionKey(jwk)', () => {
  it('takes a private JWK object, with RS256 when it names no alg', () => {
    const key = importAssertionKey(rsa.privateJwk, WHAT);
    expect(key).to.include({ kid: 'key-1', alg: 'RS256' });
    expect(key.key.type).to.equal('private');
  });

  it('takes the JWK as a JSON string (as AZURE_APP_JWK holds it)', () => {
    expect(importAssertionKey(JSON.stringify(rsa.privateJwk), WHAT)).to.include({ kid: 'key-1', alg: 'RS256' });
  });

  it("keeps the JWK's own alg (PS256, which Microsoft recommends)", () => {
    expect(importAssertionKey({ ...rsa.privateJwk, alg: 'PS256' }, WHAT).alg).to.equal('PS256');
  });

  it('picks the alg of an EC key from its curve', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const jwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'ec' };
    expect(importAssertionKey(jwk, WHAT).alg).to.equal('ES384');
  });

  it('refuses malformed JSON without quoting it', () => {
    const text = JSON.stringify(rsa.privateJwk).slice(0, -5);
    const error = expectConfigurationError(text, /is not valid JSON$/);
    expect(error.cause).to.equal(undefined);
    expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(rsa.privateJwk.d!.slice(0, 20));
  });

  it('refuses a JWK without kid', () => {
    const { kid: _kid, ...withoutKid } = rsa.privateJwk;
    expectConfigurationError(withoutKid, /has no kid/);
  });

  it('refuses a public key', () => {
    expectConfigurationError(rsa.publicJwk, /is a public key/);
  });

  it('refuses something that is not a JSON object', () => {
    expectConfigurationError('[1, 2]', /is not a JWK/);
    expectConfigurationError(42, /is not a JWK/);
  });

  it('refuses a private JWK whose fields do not make a key, without showing them', () => {
    const { n: _n, ...broken } = rsa.privateJwk; // no modulus
    const error = expectConfigurationError(broken, /is not a usable private key \(kty "RSA"\)/);
    expect(JSON.stringify(error)).to.not.include(rsa.privateJwk.d!);
    expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(rsa.privateJwk.d!);
  });

  it('refuses an alg that the key cannot sign with', () => {
    expectConfigurationError({ ...rsa.privateJwk, alg: 'ES256' }, /names alg "ES256", which its key cannot sign with/);
  });

  it('refuses RSA keys shorter than 2048 bits', () => {
    expectConfigurationError(rsaJwk({}, 1024).privateJwk, /1024 bits/);
  });
});

describe('signClientAssertion(key, { clientId, audience })', () => {
  const jwks = createLocalJWKSet({ keys: [rsa.publicJwk] });
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => clock?.restore());

  it('signs the header and claims Entra ID expects', async () => {
    const now = Date.UTC(2026, 0, 9, 2, 2, 12);
    clock = sinon.useFakeTimers({ now, toFake: ['Date'] });
    const assertion = await signClientAssertion(importAssertionKey(rsa.privateJwk, WHAT), {
      clientId: CLIENT_ID,
      audience: AUDIENCE,
    });
    expect(decodeProtectedHeader(assertion)).to.deep.equal({ alg: 'RS256', kid: 'key-1', typ: 'JWT' });
    const { payload } = await jwtVerify(assertion, jwks, { currentDate: new Date(now) });
    const seconds = now / 1000;
    expect(payload).to.deep.equal({
      iss: CLIENT_ID,
      sub: CLIENT_ID,
      aud: AUDIENCE,
      jti: payload.jti,
      iat: seconds,
      nbf: seconds,
      exp: seconds + ASSERTION_LIFETIME_SECONDS,
    });
    expect(payload.jti).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('makes a new jti for every assertion', async () => {
    const key = importAssertionKey(rsa.privateJwk, WHAT);
    const jtis = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      const { payload } = await jwtVerify(await signClientAssertion(key, { clientId: CLIENT_ID, audience: AUDIENCE }), jwks);
      jtis.add(payload.jti);
    }
    expect(jtis.size).to.equal(3);
  });

  it('signs with the alg the JWK names', async () => {
    const key = importAssertionKey({ ...rsa.privateJwk, alg: 'PS256' }, WHAT);
    const assertion = await signClientAssertion(key, { clientId: CLIENT_ID, audience: AUDIENCE });
    expect(decodeProtectedHeader(assertion).alg).to.equal('PS256');
    await jwtVerify(assertion, createLocalJWKSet({ keys: [{ ...rsa.publicJwk, alg: 'PS256' }] }));
  });
});
