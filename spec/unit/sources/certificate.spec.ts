import { expect } from 'chai';
import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import { inspect } from 'node:util';
import { decodeProtectedHeader, importX509, jwtVerify } from 'jose';
import nock from 'nock';
import sinon from 'sinon';
import { TokenError } from '../../../lib/errors.js';
import { checkCertificate, signCertificateAssertion, type CertificateCredential } from '../../../lib/sources/certificate.js';
import { ASSERTION_LIFETIME_SECONDS, CLIENT_ASSERTION_TYPE } from '../../../lib/sources/client-assertion.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { useNock } from '../../support/nock.js';
import { makeCertificate, makeKeyPair, type InProcessCertificate } from '../../support/x509.js';

// A certificate credential: checked at creation (an RSA key that matches an unexpired leaf), its
// expiry again before each assertion, then a fresh PS256 assertion per token request that Entra ID matches to the registered
// certificate by its SHA-256 thumbprint. The integration tier runs it against the testing
// server's Entra ID endpoint; here each rule on its own, with certificates made in-process.

const WHAT = 'clientCredentials(): option certificate';
const ORIGIN = 'https://login.microsoftonline.com';
const PATH = '/tenant/oauth2/v2.0/token';
const AUDIENCE = `${ORIGIN}${PATH}`;
const CLIENT_ID = 'cert-client';
const SCOPE = 'api://dev-gcp.team.api/.default';
const NOT_AFTER = new Date('2036-01-01T00:00:00.000Z');
/** The clock the assertions are signed by: within every certificate's validity, off a second boundary. */
const NOW = new Date('2030-06-01T12:00:00.400Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);

const thumbprintOf = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
const derOf = (pem: string) => new X509Certificate(pem).raw.toString('base64');
/** Lines from inside a PEM key: what a message that quoted the key would show. */
const bodyOf = (key: string) => key.split('\n').slice(1, 3).join('');

let ca: InProcessCertificate;
let leaf: InProcessCertificate;
let other: InProcessCertificate;
let made = false;

/** The certificates, made once, on the first block that needs them (RSA key generation takes a moment). */
function useCertificates(): void {
  before(function () {
    this.timeout(20_000);
    if (made) return;
    made = true;
    ca = makeCertificate({ subject: 'cert-ca', notAfter: NOT_AFTER });
    leaf = makeCertificate({ subject: 'cert-app', notAfter: NOT_AFTER, issuer: { subject: 'cert-ca', keyObject: ca.keyObject } });
    other = makeCertificate({ subject: 'other-app', notAfter: NOT_AFTER });
  });
}

describe('checkCertificate(value, what)', () => {
  useCertificates();
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] })));
  afterEach(() => clock.restore());

  it("takes a PEM key or a KeyObject, and gives the leaf's SHA-256 thumbprint (base64url of its DER) and no chain", () => {
    for (const key of [leaf.key, leaf.keyObject]) {
      const checked = checkCertificate({ key, cert: leaf.cert }, WHAT);
      expect(checked.thumbprint).to.equal(thumbprintOf(leaf.cert));
      expect(checked.key.type).to.equal('private');
      expect(checked.key.export({ type: 'pkcs8', format: 'pem' })).to.equal(leaf.key);
      expect(checked).to.not.have.property('x5c');
    }
  });

  it('gives the chain, leaf first, as base64 DER with sendChain: true only', () => {
    const cert = `${leaf.cert}${ca.cert}`;
    expect(checkCertificate({ key: leaf.key, cert, sendChain: true }, WHAT).x5c).to.deep.equal([derOf(leaf.cert), derOf(ca.cert)]);
    expect(checkCertificate({ key: leaf.key, cert, sendChain: false }, WHAT)).to.not.have.property('x5c');
    expect(checkCertificate({ key: leaf.key, cert, sendChain: 'yes' as never }, WHAT)).to.not.have.property('x5c');
    // Text around the PEM blocks (openssl's "subject=" lines, say) is no part of the chain.
    const annotated = `subject=CN=cert-app\n${leaf.cert}issuer=CN=cert-ca\n${ca.cert}trailing text\n`;
    expect(checkCertificate({ key: leaf.key, cert: annotated, sendChain: true }, WHAT).x5c).to.deep.equal([derOf(leaf.cert), derOf(ca.cert)]);
  });

  it('takes the first certificate as the leaf: thumbprint and key are checked against it', () => {
    expect(checkCertificate({ key: leaf.key, cert: `${leaf.cert}${ca.cert}` }, WHAT).thumbprint).to.equal(thumbprintOf(leaf.cert));
    expect(() => checkCertificate({ key: leaf.key, cert: `${ca.cert}${leaf.cert}` }, WHAT)).to.throw(TokenError, /does not match the certificate \(CN=cert-ca\)/);
  });

  it('takes a certificate up to the last millisecond before it expires, not at its notAfter', () => {
    clock.setSystemTime(NOT_AFTER.getTime() - 1);
    expect(checkCertificate({ key: leaf.key, cert: leaf.cert }, WHAT).thumbprint).to.equal(thumbprintOf(leaf.cert));
    clock.setSystemTime(NOT_AFTER);
    expect(() => checkCertificate({ key: leaf.key, cert: leaf.cert }, WHAT)).to.throw(
      TokenError,
      `${WHAT} has a certificate that expired on 2036-01-01T00:00:00.000Z (CN=cert-app)`,
    );
  });

  describe('refuses, with a configuration error that names the problem and never quotes the key', () => {
    const refusal = (value: unknown): TokenError => {
      try {
        checkCertificate(value as CertificateCredential, WHAT);
      } catch (error) {
        expect(error).to.be.instanceOf(TokenError).and.include({ code: 'configuration' });
        return error as TokenError;
      }
      return expect.fail('accepted');
    };
    const expectNoKey = (error: TokenError, key: string) => {
      for (const view of [error.message, String(error), JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true })]) {
        expect(view.replace(/\\n|\n/g, '')).to.not.include(bodyOf(key));
      }
      expect(error.cause, 'no cause: a parser error may quote the key').to.equal(undefined);
    };

    it('what is not { key, cert }', () => {
      for (const value of [undefined, null, 'pem', 42]) expect(refusal(value).message).to.equal(`${WHAT} is not { key, cert }`);
    });

    it('a cert without a PEM certificate', () => {
      for (const cert of [undefined, '', 'MIIB...', 42, leaf.key]) expect(refusal({ key: leaf.key, cert }).message).to.equal(`${WHAT} has no PEM certificate in cert`);
    });

    it('a certificate that does not parse', () => {
      const broken = `-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n`;
      expect(refusal({ key: leaf.key, cert: `${leaf.cert}${broken}` }).message).to.equal(`${WHAT} has a certificate that does not parse`);
    });

    it('a key that is not a PEM private key, quoting none of it', () => {
      // A damaged key: the PEM of a real one with a line cut out.
      const lines = leaf.key.split('\n');
      const damaged = [...lines.slice(0, 3), ...lines.slice(5)].join('\n');
      const error = refusal({ key: damaged, cert: leaf.cert });
      expect(error.message).to.equal(`${WHAT} has a key that is not a PEM private key`);
      expectNoKey(error, damaged);
      expect(refusal({ key: 'not a key', cert: leaf.cert }).message).to.equal(`${WHAT} has a key that is not a PEM private key`);
    });

    it('a key that is neither a string nor a KeyObject', () => {
      for (const key of [undefined, Buffer.from(leaf.key), { type: 'private', asymmetricKeyType: 'rsa' }]) {
        expect(refusal({ key, cert: leaf.cert }).message).to.equal(`${WHAT} has a key that is neither a PEM string nor a KeyObject`);
      }
    });

    it('a public key', () => {
      expect(refusal({ key: createPublicKey(leaf.keyObject), cert: leaf.cert }).message).to.equal(`${WHAT} has a public key; signing needs the private key`);
    });

    it('a key that is not RSA', () => {
      const ec = makeCertificate({ subject: 'ec-app', keys: makeKeyPair('ec'), notAfter: NOT_AFTER, issuer: { subject: 'cert-ca', keyObject: ca.keyObject } });
      const error = refusal({ key: ec.key, cert: ec.cert });
      expect(error.message).to.equal(`${WHAT} has a key of type ec; Entra ID takes RSA certificates only`);
      expectNoKey(error, ec.key);
    });

    it("a key that is not the certificate's, naming the certificate's subject", () => {
      const error = refusal({ key: other.key, cert: leaf.cert });
      expect(error.message).to.equal(`${WHAT} has a key that does not match the certificate (CN=cert-app)`);
      expectNoKey(error, other.key);
      const named = makeCertificate({
        subject: 'team-app',
        organization: 'nais',
        keys: { privateKey: leaf.keyObject, publicKey: createPublicKey(leaf.keyObject) },
        notAfter: NOT_AFTER,
      });
      expect(refusal({ key: other.key, cert: named.cert }).message).to.equal(`${WHAT} has a key that does not match the certificate (O=nais, CN=team-app)`);
    });

    it('an expired certificate, naming when it expired and its subject', () => {
      const expired = makeCertificate({ subject: 'old-app', organization: 'nais', notAfter: new Date('2030-05-31T23:59:59.000Z') });
      const error = refusal({ key: expired.key, cert: expired.cert });
      // The subject on one line, its parts apart.
      expect(error.message).to.equal(`${WHAT} has a certificate that expired on 2030-05-31T23:59:59.000Z (O=nais, CN=old-app)`);
      expectNoKey(error, expired.key);
    });
  });
});

describe('signCertificateAssertion(cert, claims): the client assertion', () => {
  useCertificates();
  let clock: sinon.SinonFakeTimers;
  // Only Date: jose signs through WebCrypto, whose promises must still settle.
  beforeEach(() => (clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] })));
  afterEach(() => clock.restore());

  const sign = (credential: CertificateCredential) => signCertificateAssertion(checkCertificate(credential, WHAT), { clientId: CLIENT_ID, audience: AUDIENCE });

  it('has the header Entra ID matches the certificate by: PS256, typ JWT, x5t#S256, and no kid, x5t or x5c', async () => {
    const header = decodeProtectedHeader(await sign({ key: leaf.key, cert: leaf.cert }));
    expect(header).to.deep.equal({ alg: 'PS256', typ: 'JWT', 'x5t#S256': thumbprintOf(leaf.cert) });
  });

  it('carries the chain as x5c with sendChain', async () => {
    const header = decodeProtectedHeader(await sign({ key: leaf.keyObject, cert: `${leaf.cert}${ca.cert}`, sendChain: true }));
    expect(header).to.deep.equal({ alg: 'PS256', typ: 'JWT', 'x5t#S256': thumbprintOf(leaf.cert), x5c: [derOf(leaf.cert), derOf(ca.cert)] });
  });

  it("is signed with the certificate's key: it verifies with the certificate, not with another", async () => {
    const assertion = await sign({ key: leaf.key, cert: leaf.cert });
    const { payload } = await jwtVerify(assertion, await importX509(leaf.cert, 'PS256'), { currentDate: NOW, algorithms: ['PS256'] });
    expect(payload).to.include({ iss: CLIENT_ID, sub: CLIENT_ID, aud: AUDIENCE });
    const error = await jwtVerify(assertion, await importX509(other.cert, 'PS256'), { currentDate: NOW }).catch((e: unknown) => e);
    expect(error).to.have.property('code', 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('is issued now, valid from now, for ASSERTION_LIFETIME_SECONDS (five minutes), with a fresh jti each time', async () => {
    const credential = { key: leaf.key, cert: leaf.cert };
    const key = await importX509(leaf.cert, 'PS256');
    const first = (await jwtVerify(await sign(credential), key, { currentDate: NOW })).payload;
    expect(ASSERTION_LIFETIME_SECONDS).to.equal(300);
    expect(first).to.include({ iat: NOW_SECONDS, nbf: NOW_SECONDS, exp: NOW_SECONDS + 300 });
    expect(first.jti).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    clock.tick(61_000);
    const second = (await jwtVerify(await sign(credential), key, { currentDate: new Date(Date.now()) })).payload;
    expect(second).to.include({ iat: NOW_SECONDS + 61, nbf: NOW_SECONDS + 61, exp: NOW_SECONDS + 361 });
    expect(second.jti).to.not.equal(first.jti);
    expect(Object.keys(second).sort()).to.deep.equal(['aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'sub']);
  });

  it('is refused once the leaf has expired since its check, naming it; up to the last millisecond before, it is signed', async () => {
    const checked = checkCertificate({ key: leaf.key, cert: leaf.cert }, WHAT);
    clock.setSystemTime(NOT_AFTER.getTime() - 1);
    expect(await signCertificateAssertion(checked, { clientId: CLIENT_ID, audience: AUDIENCE })).to.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    clock.setSystemTime(NOT_AFTER);
    const error = await signCertificateAssertion(checked, { clientId: CLIENT_ID, audience: AUDIENCE }).catch((e: unknown) => e);
    expect(error)
      .to.be.instanceOf(TokenError)
      .and.include({
        code: 'configuration',
        message: `${WHAT} has a certificate that expired on 2036-01-01T00:00:00.000Z (CN=cert-app)`,
      });
  });
});

describe('clientCredentials({ certificate }): the token request', () => {
  useCertificates();
  useNock();
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] })));
  afterEach(() => clock.restore());

  const source = (certificate: CertificateCredential = { key: leaf.key, cert: leaf.cert }) =>
    clientCredentials({ tokenEndpoint: AUDIENCE, clientId: CLIENT_ID, certificate, retries: 0 });

  /** Records each token request's form body and answers with `reply`. */
  function tokenEndpoint(times: number, reply: (body: Record<string, string>) => [number, object]): Record<string, string>[] {
    const bodies: Record<string, string>[] = [];
    nock(ORIGIN)
      .post(PATH)
      .times(times)
      .reply((_uri, body) => {
        const form = Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : ''));
        bodies.push(form);
        return reply(form);
      });
    return bodies;
  }

  it('posts a jwt-bearer client assertion and no client_secret, a fresh assertion for each request', async () => {
    const bodies = tokenEndpoint(2, () => [200, { token_type: 'Bearer', expires_in: 3599, access_token: 'cert-token' }]);
    const tokens = source();
    expect((await tokens.getToken(SCOPE)).token).to.equal('cert-token');
    await tokens.getToken(SCOPE, { forceRefresh: true });
    expect(bodies.map((body) => Object.keys(body).sort())).to.deep.equal(
      Array(2).fill(['client_assertion', 'client_assertion_type', 'client_id', 'grant_type', 'scope']),
    );
    expect(bodies[0]).to.include({ grant_type: 'client_credentials', client_id: CLIENT_ID, scope: SCOPE, client_assertion_type: CLIENT_ASSERTION_TYPE });
    const key = await importX509(leaf.cert, 'PS256');
    const claims = await Promise.all(bodies.map(async (body) => (await jwtVerify(body.client_assertion!, key, { currentDate: NOW, audience: AUDIENCE })).payload));
    expect(claims.map((c) => [c.iss, c.sub])).to.deep.equal([
      [CLIENT_ID, CLIENT_ID],
      [CLIENT_ID, CLIENT_ID],
    ]);
    expect(claims[0]!.jti).to.not.equal(claims[1]!.jti);
  });

  it('keeps the assertion out of the error of an endpoint that echoes it', async () => {
    const bodies = tokenEndpoint(1, (body) => [
      401,
      { error: 'invalid_client', error_description: `AADSTS700027: the assertion ${body.client_assertion} was refused`, error_codes: [700027] },
    ]);
    const error = (await source()
      .getToken(SCOPE)
      .catch((e: unknown) => e)) as TokenError;
    expect(error).to.be.instanceOf(TokenError).and.include({ code: 'invalid_client', status: 401 });
    const assertion = bodies[0]!.client_assertion!;
    const [, payload, signature] = assertion.split('.');
    for (const view of [error.message, String(error.description), JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true })]) {
      expect(view).to.not.include(assertion);
      expect(view).to.not.include(signature);
      expect(view).to.not.include(payload);
    }
  });

  it('fails a token request made after the certificate expired with a configuration error naming it, and sends nothing', async () => {
    const bodies = tokenEndpoint(1, () => [200, { token_type: 'Bearer', expires_in: 3599, access_token: 'cert-token' }]);
    const tokens = source();
    clock.setSystemTime(NOT_AFTER);
    const error = await tokens.getToken(SCOPE).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(TokenError).and.include({ code: 'configuration' });
    expect((error as Error).message).to.include(`${WHAT} has a certificate that expired on 2036-01-01T00:00:00.000Z (CN=cert-app)`);
    expect(bodies).to.deep.equal([]);
    nock.cleanAll();
  });

  it('refuses a bad certificate at creation, before any request, never quoting the key', () => {
    let error: unknown;
    try {
      source({ key: other.key, cert: leaf.cert });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(TokenError).and.include({ code: 'configuration' });
    expect((error as Error).message).to.equal(`${WHAT} has a key that does not match the certificate (CN=cert-app)`);
    expect(inspect(error, { depth: Infinity }).replace(/\n/g, '')).to.not.include(bodyOf(other.key));
  });
});
