import { expect } from 'chai';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials, type ClientCredentialsOptions } from '../../../lib/sources/client-credentials.js';
import { type TexasServer } from '../../../lib/testing/texas-server.js';
import { useTexasServer } from '../../support/testing-server.js';
import { makeCertificate } from '../../support/certificates.js';
import { leaks } from '../../support/secret-forms.js';

// Entra ID may refuse an assertion whose jti it has seen, and the testing server always does
// (AADSTS50027). An attempt that got a 503 has spent its assertion, so the retry must carry a new
// one: signed again (new jti, fresh iat/exp), or asked of the clientAssertion callback again.

const SCOPE = 'api://dev-gcp.team.api/.default';

function rsaJwk(kid: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256' },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256' },
    privateKey,
  };
}

describe('a client assertion made for each attempt, against the Entra ID endpoint', () => {
  let server: TexasServer;
  useTexasServer((started) => (server = started));

  const attemptsOf = (clientId: string) => server.requests.filter((r) => r.body.client_id === clientId);

  /** One token request whose first attempt gets a 503: the retry must succeed. */
  async function afterA503(clientId: string, credential: Partial<ClientCredentialsOptions>) {
    server.failNext(1, 503, 'temporarily_unavailable', 'AADSTS90033: A transient error has occurred. Please try again.');
    const source = clientCredentials({ tokenEndpoint: server.entraTokenEndpoint, clientId, allowInsecure: true, retries: 2, ...credential });
    const { token } = await source.getToken(SCOPE);
    expect(await server.verify(token)).to.include({ azp: clientId });
    const attempts = attemptsOf(clientId);
    expect(attempts.map((r) => r.status)).to.deep.equal([503, 200]);
    const [first, second] = attempts.map((r) => decodeJwt(String(r.body.client_assertion)));
    expect(second!.jti).to.be.a('string').and.not.equal(first!.jti);
    return attempts.map((r) => String(r.body.client_assertion));
  }

  it('signs a new assertion (new jti) for the retry after a 503, with a private JWK', async () => {
    const { privateJwk, publicJwk } = rsaJwk('per-attempt-jwk');
    const clientId = server.registerEntraClient({ jwks: [publicJwk] });
    await afterA503(clientId, { privateJwk });
  });

  it('signs a new assertion (new jti) for the retry after a 503, with a certificate', async () => {
    const leaf = makeCertificate({ subject: '/CN=per-attempt' });
    const clientId = server.registerEntraClient({ certificates: [leaf.cert] });
    await afterA503(clientId, { certificate: { key: leaf.key, cert: leaf.cert } });
  });

  it('calls the clientAssertion callback again for the retry after a 503', async () => {
    const { publicJwk, privateKey } = rsaJwk('per-attempt-callback');
    const clientId = server.registerEntraClient({ jwks: [publicJwk] });
    let calls = 0;
    const clientAssertion = ({ clientId: iss, tokenEndpoint }: { clientId: string; tokenEndpoint: string }) => {
      calls += 1;
      return new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'per-attempt-callback', typ: 'JWT' })
        .setIssuer(iss)
        .setSubject(iss)
        .setAudience(tokenEndpoint)
        .setJti(randomUUID())
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime('5m')
        .sign(privateKey);
    };
    await afterA503(clientId, { clientAssertion });
    expect(calls).to.equal(2);
  });

  it('refuses a reused jti (AADSTS50027), and no assertion of any attempt shows in the error', async () => {
    const { publicJwk, privateKey } = rsaJwk('reused-jti');
    const clientId = server.registerEntraClient({ jwks: [publicJwk] });
    const jti = randomUUID();
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'reused-jti', typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(server.entraTokenEndpoint)
      .setJti(jti)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    // A callback that hands out the same assertion every time: the endpoint takes it once only.
    const source = clientCredentials({ tokenEndpoint: server.entraTokenEndpoint, clientId, allowInsecure: true, retries: 2, clientAssertion: () => assertion });
    await source.getToken(SCOPE);
    const error = (await source.getToken(SCOPE, { forceRefresh: true }).catch((e: unknown) => e)) as TokenError;
    expect(error).to.be.instanceOf(TokenError).and.include({ code: 'invalid_client', status: 401 });
    expect(error.errorCodes).to.deep.equal([50027]);
    expect(leaks(error, [assertion])).to.deep.equal([]);
  });
});
