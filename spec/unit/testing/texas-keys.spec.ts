import { expect } from 'chai';
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { canonical, createTexasKeys } from '../../../lib/testing/texas-keys.js';

describe('testing/texas-keys', () => {
  const url = 'http://127.0.0.1:1234';
  const now = 1_700_000_000;

  it('signs ES256 with the provider as kid and issuer <url>/<provider>, azuread as entra_id', async () => {
    const keys = await createTexasKeys(
      () => url,
      () => now,
    );
    const token = await keys.sign('azuread', { aud: 'a' }, 60);
    expect(decodeProtectedHeader(token)).to.deep.equal({ alg: 'ES256', kid: 'entra_id', typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims).to.include({ iss: `${url}/entra_id`, aud: 'a', iat: now, exp: now + 60 });
    expect(claims.jti).to.be.a('string');
    expect(decodeJwt(await keys.sign('tokenx', {}, 60)).jti).not.to.equal(claims.jti);
    expect(keys.issuerOf('tokenx')).to.equal(`${url}/tokenx`);
    expect(canonical('azuread')).to.equal('entra_id');
    expect(canonical('tokenx')).to.equal('tokenx');
  });

  it('recognises its own tokens with the signing provider, and nothing signed elsewhere', async () => {
    const keys = await createTexasKeys(
      () => url,
      () => now,
    );
    const other = await createTexasKeys(
      () => url,
      () => now,
    );
    expect(await keys.signed(await keys.sign('idporten', { sub: 'u' }, 60))).to.deep.include({ provider: 'idporten' });
    expect(await keys.signed(await other.sign('idporten', { sub: 'u' }, 60))).to.equal(null);
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'entra_id' }).sign(privateKey);
    expect(await keys.signed(foreign)).to.equal(null);
    expect(await keys.signed('not.a.jwt')).to.equal(null);
  });
});
