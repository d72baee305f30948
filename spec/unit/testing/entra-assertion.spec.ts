import { expect } from 'chai';
import { X509Certificate, createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, exportJWK, generateKeyPair, importPKCS8, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { TOKEN_EXCHANGE_AUDIENCE, verifyAssertion, type EntraClientCredentials } from '../../../lib/testing/entra-assertion.js';
import { EntraError } from '../../../lib/testing/entra-error.js';

// The clock is verifyAssertion's argument: a fixed instant inside the fixture certificates'
// validity (2026-12-03 to 2036-11-30), so that no spec depends on the day it runs.
const NOW = 1_800_000_000; // 2027-01-15T08:00:00Z
const CLIENT = 'client-1';
const ENDPOINT = 'https://login.example/tenant/oauth2/v2.0/token';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/certificates/${name}`, import.meta.url), 'utf8');
const sha256 = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
const sha1 = (pem: string) => createHash('sha1').update(new X509Certificate(pem).raw).digest('base64url');
const der = (pem: string) => new X509Certificate(pem).raw.toString('base64');

function sign(key: CryptoKey, header: Record<string, unknown>, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...header }).sign(key);
}

/** The claims a client's own assertion must have, valid at NOW. */
const own = (extra: JWTPayload = {}): JWTPayload => ({ iss: CLIENT, sub: CLIENT, aud: ENDPOINT, jti: randomUUID(), iat: NOW, nbf: NOW, exp: NOW + 300, ...extra });

async function refusal(promise: Promise<void>): Promise<EntraError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.an.instanceOf(EntraError);
    return error as EntraError;
  }
  return expect.fail('expected a refusal');
}

describe('testing/entra-assertion', () => {
  let key: CryptoKey;
  let otherKey: CryptoKey;
  let publicJwk: JWK;
  before(async () => {
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1' };
    otherKey = (await generateKeyPair('RS256')).privateKey;
  });
  const verify = (assertion: string, client: EntraClientCredentials, seen = new Set<string>(), now = NOW) =>
    verifyAssertion(assertion, CLIENT, client, ENDPOINT, now, seen);

  it('refuses what is not a signed JWT as malformed (401 invalid_client, AADSTS50027)', async () => {
    for (const junk of ['not.a.jwt', '', 'abc']) {
      const error = await refusal(verify(junk, { jwks: [publicJwk] }));
      expect(error).to.include({ status: 401, error: 'invalid_client', aadsts: 50027 });
      expect(error.text).to.equal('JWT token is invalid or malformed. [Reason - the assertion is not a signed JWT]');
    }
  });

  describe('private_key_jwt (a registered JWK, by kid)', () => {
    const client = () => ({ jwks: [publicJwk] });

    it('takes an assertion signed with the registered key, and remembers its jti', async () => {
      const seen = new Set<string>();
      const claims = own();
      await verify(await sign(key, { kid: 'key-1' }, claims), client(), seen);
      expect([...seen]).to.deep.equal([claims.jti]);
      await verify(await sign(key, { kid: 'key-1' }, own({ aud: ['https://other.example', ENDPOINT] })), client(), seen);
      expect(seen.size).to.equal(2);
    });

    it('refuses an unknown kid, no kid, or a key that is not the registered one (AADSTS700027)', async () => {
      const unknown = await refusal(verify(await sign(key, { kid: 'key-2' }, own()), client()));
      expect(unknown).to.include({ status: 401, error: 'invalid_client', aadsts: 700027 });
      expect(unknown.text).to.match(/^Client assertion failed signature validation\. \[Reason - The key was not found\., Thumbprint of key used by client: 'key-2',/);
      expect(unknown.text).to.include(`for app Id '${CLIENT}'`);
      expect((await refusal(verify(await sign(key, {}, own()), client()))).text).to.include("Thumbprint of key used by client: 'none'");
      expect((await refusal(verify(await sign(key, { kid: 'key-1' }, own()), {}))).aadsts).to.equal(700027);
      const forged = await refusal(verify(await sign(otherKey, { kid: 'key-1' }, own()), client()));
      expect(forged).to.include({ status: 401, error: 'invalid_client', aadsts: 700027 });
      expect(forged.text).to.match(/^Client assertion contains an invalid signature\./);
    });

    it('refuses a sub that is not the client (AADSTS700021)', async () => {
      const error = await refusal(verify(await sign(key, { kid: 'key-1' }, own({ sub: 'someone-else' })), client()));
      expect(error).to.include({ status: 401, error: 'invalid_client', aadsts: 700021 });
      expect(error.text).to.equal("Client assertion application identifier doesn't match 'client_id' parameter.");
    });

    it('refuses an audience that is not the token endpoint, a missing or empty jti, and a jti seen before (AADSTS50027)', async () => {
      const aud = await refusal(verify(await sign(key, { kid: 'key-1' }, own({ aud: 'https://login.example/other/oauth2/v2.0/token' })), client()));
      expect(aud).to.include({ status: 401, error: 'invalid_client', aadsts: 50027 });
      expect(aud.text).to.include(`the audience "https://login.example/other/oauth2/v2.0/token" is not the token endpoint ${ENDPOINT}`);
      const { jti: _jti, ...noJti } = own();
      expect((await refusal(verify(await sign(key, { kid: 'key-1' }, noJti), client()))).text).to.include('the assertion has no jti');
      expect((await refusal(verify(await sign(key, { kid: 'key-1' }, own({ jti: '' })), client()))).text).to.include('the assertion has no jti');
      const seen = new Set<string>();
      const once = await sign(key, { kid: 'key-1' }, own());
      await verify(once, client(), seen);
      const reused = await refusal(verify(once, client(), seen));
      expect(reused).to.include({ aadsts: 50027 });
      expect(reused.text).to.include('the assertion was already used (its jti has been seen)');
    });

    it('takes no leeway: expired at exp, not valid before nbf, and no exp at all is out of range (AADSTS700024)', async () => {
      const at = async (claims: JWTPayload) => verify(await sign(key, { kid: 'key-1' }, own(claims)), client());
      await at({ exp: NOW + 1 });
      await at({ nbf: NOW });
      // The range starts at nbf when there is one, not at iat.
      const expired = await refusal(at({ iat: NOW - 900, nbf: NOW - 600, exp: NOW }));
      expect(expired).to.include({ status: 401, error: 'invalid_client', aadsts: 700024 });
      expect(expired.text).to.equal(
        'Client assertion is not within its valid time range. Current time: 2027-01-15T08:00:00.0000000Z, assertion valid from 2027-01-15T07:50:00.0000000Z, expiry time of assertion 2027-01-15T08:00:00.0000000Z.',
      );
      expect((await refusal(at({ nbf: NOW + 1, exp: NOW + 300 }))).aadsts).to.equal(700024);
      const { exp: _exp, nbf: _nbf, ...untimed } = own();
      const noExp = await refusal(verify(await sign(key, { kid: 'key-1' }, untimed), client()));
      expect(noExp.aadsts).to.equal(700024);
      // Without nbf the range starts at iat; without either, at the epoch.
      expect(noExp.text).to.include('valid from 2027-01-15T08:00:00.0000000Z, expiry time of assertion 1970-01-01T00:00:00.0000000Z');
    });

    it('remembers the jti only of an assertion it took', async () => {
      const seen = new Set<string>();
      await refusal(verify(await sign(key, { kid: 'key-1' }, own({ exp: NOW - 1 })), client(), seen));
      await refusal(verify(await sign(otherKey, { kid: 'key-1' }, own()), client(), seen));
      expect(seen.size).to.equal(0);
    });
  });

  describe('certificates (x5t#S256, x5t, or a trusted x5c chain)', () => {
    const leafPem = fixture('leaf-app.pem');
    const chainedPem = fixture('chained-app.pem');
    const caPem = fixture('ca.pem');
    let leafKey: CryptoKey;
    let chainedKey: CryptoKey;
    before(async () => {
      leafKey = await importPKCS8(fixture('leaf-app.key'), 'PS256');
      chainedKey = await importPKCS8(fixture('chained-app.key'), 'PS256');
    });

    it('takes a registered certificate by x5t#S256 or x5t, signed RS256 or PS256', async () => {
      const client = { certificates: [chainedPem, leafPem] };
      await verify(await sign(leafKey, { alg: 'PS256', 'x5t#S256': sha256(leafPem) }, own()), client);
      const rs256 = await importPKCS8(fixture('leaf-app.key'), 'RS256');
      await verify(await sign(rs256, { alg: 'RS256', 'x5t#S256': sha256(leafPem) }, own()), client);
      await verify(await sign(leafKey, { alg: 'PS256', x5t: sha1(leafPem) }, own()), client);
    });

    it('refuses an unregistered thumbprint (AADSTS700027, naming it), a key not the certificate, and algorithms other than RS256 and PS256', async () => {
      const client = { certificates: [leafPem] };
      const unknown = await refusal(verify(await sign(chainedKey, { alg: 'PS256', 'x5t#S256': sha256(chainedPem) }, own()), client));
      expect(unknown).to.include({ status: 401, error: 'invalid_client', aadsts: 700027 });
      expect(unknown.text).to.include(`Thumbprint of key used by client: '${sha256(chainedPem)}'`);
      // x5t is SHA-1: the SHA-256 thumbprint in its place matches nothing.
      expect((await refusal(verify(await sign(leafKey, { alg: 'PS256', x5t: sha256(leafPem) }, own()), client))).aadsts).to.equal(700027);
      const wrongKey = await refusal(verify(await sign(chainedKey, { alg: 'PS256', 'x5t#S256': sha256(leafPem) }, own()), client));
      expect(wrongKey.text).to.match(/^Client assertion contains an invalid signature\./);
      const rs384 = await importPKCS8(fixture('leaf-app.key'), 'RS384');
      expect((await refusal(verify(await sign(rs384, { alg: 'RS384', 'x5t#S256': sha256(leafPem) }, own()), client))).text).to.match(/invalid signature/);
    });

    it("takes an x5c chain whose leaf has a trusted subject and which ends in the trusted issuer, valid at the caller's clock", async () => {
      const client = {
        trustedSubjects: [
          { subject: 'CN=leaf-app', issuer: leafPem },
          { subject: 'CN=chained-app', issuer: caPem },
        ],
      };
      const header = { alg: 'PS256', 'x5t#S256': sha256(chainedPem), x5c: [der(chainedPem)] };
      await verify(await sign(chainedKey, header, own()), client);
      const expired = Math.floor(new Date(new X509Certificate(chainedPem).validTo).getTime() / 1000) + 1;
      const late = await refusal(verify(await sign(chainedKey, header, own({ exp: expired + 300 })), client, new Set(), expired));
      expect(late.aadsts).to.equal(700027);
    });

    it('refuses a chain with another subject, one that does not end in the trusted issuer, a thumbprint not of its leaf, and garbage in x5c', async () => {
      const header = { alg: 'PS256', 'x5t#S256': sha256(chainedPem), x5c: [der(chainedPem)] };
      const assertion = await sign(chainedKey, header, own());
      const trusting = (subject: string, issuer: string) => ({ trustedSubjects: [{ subject, issuer }] });
      expect((await refusal(verify(assertion, trusting('CN=other-app', caPem)))).aadsts).to.equal(700027);
      expect((await refusal(verify(assertion, trusting('CN=chained-app', leafPem)))).aadsts).to.equal(700027);
      const otherLeaf = await sign(chainedKey, { ...header, 'x5t#S256': sha256(leafPem) }, own());
      expect((await refusal(verify(otherLeaf, trusting('CN=chained-app', caPem)))).aadsts).to.equal(700027);
      const garbage = await sign(chainedKey, { ...header, x5c: ['bm90IGEgY2VydGlmaWNhdGU'] }, own());
      expect((await refusal(verify(garbage, trusting('CN=chained-app', caPem)))).aadsts).to.equal(700027);
      expect((await refusal(verify(await sign(chainedKey, { ...header, x5c: [] }, own()), trusting('CN=chained-app', caPem)))).aadsts).to.equal(700027);
    });
  });

  describe('federated credentials (another issuer)', () => {
    const ISSUER = 'https://kubernetes.example';
    const SUBJECT = 'system:serviceaccount:team:app';
    let federatedKey: CryptoKey;
    let federatedJwk: JWK;
    before(async () => {
      const pair = await generateKeyPair('ES256');
      federatedKey = pair.privateKey;
      federatedJwk = { ...(await exportJWK(pair.publicKey)), kid: 'sa-1' };
    });
    const client = (audience?: string): EntraClientCredentials => ({
      federated: [{ issuer: ISSUER, subject: SUBJECT, ...(audience !== undefined && { audience }), jwks: { keys: [federatedJwk] } }],
    });
    const token = (claims: JWTPayload = {}, header: Record<string, unknown> = { kid: 'sa-1' }, signer = federatedKey) =>
      sign(signer, { alg: 'ES256', ...header }, { iss: ISSUER, sub: SUBJECT, aud: TOKEN_EXCHANGE_AUDIENCE, iat: NOW, exp: NOW + 600, ...claims });

    it('takes a token matched by issuer, subject and audience (api://AzureADTokenExchange by default), with neither jti nor a client sub, and remembers nothing', async () => {
      const seen = new Set<string>();
      await verify(await token(), client(), seen);
      await verify(await token({ jti: 'j-1' }), client(), seen);
      await verify(await token({ jti: 'j-1' }), client(), seen);
      await verify(await token({ aud: 'nais' }), client('nais'), seen);
      await verify(await token({ aud: ['x', TOKEN_EXCHANGE_AUDIENCE] }), client(), seen);
      await verify(await token({}, {}), client(), seen);
      expect(seen.size).to.equal(0);
    });

    it('refuses a token no federated credential matches (400 invalid_request, AADSTS70021), compared exactly', async () => {
      for (const claims of [{ iss: 'https://other.example' }, { sub: 'system:serviceaccount:team:App' }, { aud: 'nais' }]) {
        const error = await refusal(verify(await token(claims), client()));
        expect(error).to.include({ status: 400, error: 'invalid_request', aadsts: 70021 });
      }
      expect((await refusal(verify(await token(), client('nais')))).aadsts).to.equal(70021);
      expect((await refusal(verify(await token(), {}))).text).to.equal(
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${ISSUER}'. Assertion Subject: '${SUBJECT}'. Assertion Audience: '${TOKEN_EXCHANGE_AUDIENCE}'.`,
      );
    });

    it("refuses an unknown kid and a signature not of the issuer's key (AADSTS700027), and an expired token (AADSTS700024)", async () => {
      const unknown = await refusal(verify(await token({}, { kid: 'sa-2' }), client()));
      expect(unknown).to.include({ status: 401, error: 'invalid_client', aadsts: 700027 });
      expect(unknown.text).to.equal(`Client assertion failed signature validation. [Reason - The key was not found., app Id '${CLIENT}'.]`);
      const other = (await generateKeyPair('ES256')).privateKey;
      expect((await refusal(verify(await token({}, { kid: 'sa-1' }, other), client()))).text).to.match(/invalid signature/);
      expect((await refusal(verify(await token({ exp: NOW }), client()))).aadsts).to.equal(700024);
      expect((await refusal(verify(await token({ nbf: NOW + 5 }), client()))).aadsts).to.equal(700024);
    });
  });
});
