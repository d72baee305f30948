import { expect } from 'chai';
import { X509Certificate, createHash, createPrivateKey, randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { fromEnv } from '../../../lib/sources/from-env.js';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { useTexasServer } from '../../support/testing-server.js';
import { makeCertificate } from '../../support/certificates.js';

// The testing server's Entra ID endpoint refuses what Entra ID refuses, with Entra's error bodies
// and AADSTS codes, so that users' tests of client credentials catch production's mistakes.

const SCOPE = 'api://dev-gcp.team.api/.default';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function post(url: string, fields: Record<string, string>): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function expectEntraError(answer: Answer, status: number, error: string, aadsts: number): void {
  expect(answer.status, JSON.stringify(answer.body)).to.equal(status);
  expect(answer.body).to.include({ error });
  expect(answer.body.error_codes).to.deep.equal([aadsts]);
  expect(String(answer.body.error_description)).to.match(
    new RegExp(`^AADSTS${aadsts}: .*\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: `, 's'),
  );
  expect(answer.body).to.have.keys('error', 'error_description', 'error_codes', 'timestamp', 'trace_id', 'correlation_id', 'error_uri');
}

describe('startTexasServer: the Entra ID client credentials endpoint', () => {
  let server: TexasServer;
  useTexasServer((started) => (server = started));
  const secretRequest = (extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_id: server.entraClient.clientId,
    client_secret: server.entraClient.clientSecret,
    scope: SCOPE,
    ...extra,
  });

  it('gives fromEnv(server.clientCredentialsEnv) a token for the scope, signed by the server', async () => {
    expect(server.entraTokenEndpoint).to.equal(`${server.url}/${server.tenantId}/oauth2/v2.0/token`);
    const { token } = await fromEnv(server.clientCredentialsEnv).getToken(SCOPE);
    const claims = await server.verify(token);
    expect(claims).to.include({ aud: 'api://dev-gcp.team.api', azp: server.entraClient.clientId, idtyp: 'app', tid: server.tenantId });
  });

  it('answers exactly as Entra ID: token_type, expires_in, ext_expires_in, access_token', async () => {
    const answer = await post(server.entraTokenEndpoint, secretRequest());
    expect(answer.status).to.equal(200);
    expect(answer.body).to.have.keys('token_type', 'expires_in', 'ext_expires_in', 'access_token');
    expect(answer.body).to.include({ token_type: 'Bearer', expires_in: 3599 });
  });

  it('refuses a scope without /.default with 400 invalid_scope AADSTS1002012, and two scopes with AADSTS70011', async () => {
    expectEntraError(await post(server.entraTokenEndpoint, secretRequest({ scope: 'api://dev-gcp.team.api' })), 400, 'invalid_scope', 1002012);
    expectEntraError(await post(server.entraTokenEndpoint, secretRequest({ scope: `${SCOPE} api://b/.default` })), 400, 'invalid_scope', 70011);
    const error = await clientCredentials({ ...server.entraClient, tokenEndpoint: server.entraTokenEndpoint, allowInsecure: true })
      .getToken('api://dev-gcp.team.api')
      .catch((e: unknown) => e);
    expect(error).to.include({ code: 'invalid_scope', status: 400 });
  });

  it('refuses an unknown client (AADSTS700016), a wrong secret (AADSTS7000215), no credential (AADSTS7000218), an unknown tenant (AADSTS90002)', async () => {
    expectEntraError(await post(server.entraTokenEndpoint, secretRequest({ client_id: randomUUID() })), 400, 'unauthorized_client', 700016);
    expectEntraError(await post(server.entraTokenEndpoint, secretRequest({ client_secret: 'the secret id, not its value' })), 401, 'invalid_client', 7000215);
    const { client_secret: _, ...noCredential } = secretRequest();
    expectEntraError(await post(server.entraTokenEndpoint, noCredential), 401, 'invalid_client', 7000218);
    expectEntraError(await post(`${server.url}/other-tenant/oauth2/v2.0/token`, secretRequest()), 400, 'invalid_request', 90002);
    expectEntraError(await post(server.entraTokenEndpoint, secretRequest({ grant_type: 'password' })), 400, 'unsupported_grant_type', 70003);
  });

  it('reads only a form body (JSON is a body without grant_type: AADSTS900144)', async () => {
    const response = await fetch(server.entraTokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(secretRequest()) });
    expectEntraError({ status: response.status, body: (await response.json()) as Record<string, unknown> }, 400, 'invalid_request', 900144);
  });

  describe('private_key_jwt', () => {
    let clientId: string;
    let privateJwk: Record<string, unknown>;
    let privateKey: CryptoKey;
    before(async () => {
      const pair = await generateKeyPair('RS256', { extractable: true });
      privateKey = pair.privateKey;
      privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'key-1', alg: 'RS256' };
      clientId = server.registerEntraClient({ jwks: [{ ...(await exportJWK(pair.publicKey)), kid: 'key-1' }] });
    });
    const assertion = (claims: Record<string, unknown> = {}, kid = 'key-1', key: CryptoKey = privateKey) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: clientId, sub: clientId, aud: server.entraTokenEndpoint, jti: randomUUID(), iat: now, nbf: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .sign(key);
    };
    const assertionRequest = (client_assertion: string) => ({
      grant_type: 'client_credentials',
      client_id: clientId,
      scope: SCOPE,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion,
    });

    it("takes clientCredentials({ privateJwk })'s assertions, a fresh one per request", async () => {
      const source = clientCredentials({ tokenEndpoint: server.entraTokenEndpoint, clientId, privateJwk, allowInsecure: true });
      await source.getToken(SCOPE);
      await source.getToken(SCOPE, { forceRefresh: true });
      const sent = server.requests.filter((r) => r.body.client_id === clientId).map((r) => decodeJwt(String(r.body.client_assertion)).jti);
      expect(new Set(sent).size).to.equal(2);
    });

    it('refuses an unknown kid or a wrong key (AADSTS700027), another aud or a reused jti (AADSTS50027), an expired or early one (AADSTS700024), sub not the client (AADSTS700021)', async () => {
      const other = (await generateKeyPair('RS256')).privateKey;
      const now = Math.floor(Date.now() / 1000);
      const reused = await assertion();
      expect((await post(server.entraTokenEndpoint, assertionRequest(reused))).status).to.equal(200);
      const cases: [string, number, string][] = [
        [await assertion({}, 'key-2'), 700027, 'invalid_client'],
        [await assertion({}, 'key-1', other), 700027, 'invalid_client'],
        [await assertion({ aud: `${server.url}/oauth2/v2.0/token` }), 50027, 'invalid_client'],
        [reused, 50027, 'invalid_client'],
        [await assertion({ iat: now - 900, nbf: now - 900, exp: now - 300 }), 700024, 'invalid_client'],
        [await assertion({ nbf: now + 600, exp: now + 900 }), 700024, 'invalid_client'],
        [await assertion({ sub: 'someone-else' }), 700021, 'invalid_client'],
        ['not.a.jwt', 50027, 'invalid_client'],
      ];
      for (const [jwt, code, error] of cases) expectEntraError(await post(server.entraTokenEndpoint, assertionRequest(jwt)), 401, error, code);
      expectEntraError(await post(server.entraTokenEndpoint, { ...assertionRequest(await assertion()), client_assertion_type: 'jwt' }), 400, 'invalid_request', 90014);
    });
  });

  describe('certificates', () => {
    const leaf = makeCertificate({ subject: '/CN=leaf-app' });
    const ca = makeCertificate({ subject: '/CN=test-ca', ca: true });
    const issued = makeCertificate({ subject: '/CN=chained-app', issuer: ca });
    const thumbprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
    const signWith = async (clientId: string, key: string, header: Record<string, unknown>) => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'PS256', typ: 'JWT', ...header })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(server.entraTokenEndpoint)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + 300)
        .sign(createPrivateKey(key));
    };
    const request = (clientId: string, client_assertion: string) => ({
      grant_type: 'client_credentials',
      client_id: clientId,
      scope: SCOPE,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion,
    });

    it('takes a registered certificate by x5t#S256, and refuses an unknown one with AADSTS700027', async () => {
      const clientId = server.registerEntraClient({ certificates: [leaf.cert] });
      expect((await post(server.entraTokenEndpoint, request(clientId, await signWith(clientId, leaf.key, { 'x5t#S256': thumbprint(leaf.cert) })))).status).to.equal(200);
      const stranger = makeCertificate({ subject: '/CN=stranger' });
      const refused = await post(server.entraTokenEndpoint, request(clientId, await signWith(clientId, stranger.key, { 'x5t#S256': thumbprint(stranger.cert) })));
      expectEntraError(refused, 401, 'invalid_client', 700027);
      expect(String(refused.body.error_description)).to.include(thumbprint(stranger.cert));
    });

    it('takes a chain in x5c for a client trusted by subject name and issuer, and only with that chain', async () => {
      const clientId = server.registerEntraClient({ trustedSubjects: [{ subject: 'CN=chained-app', issuer: ca.cert }] });
      const der = (pem: string) => new X509Certificate(pem).raw.toString('base64');
      const header = { 'x5t#S256': thumbprint(issued.cert), x5c: [der(issued.cert), der(ca.cert)] };
      expect(await post(server.entraTokenEndpoint, request(clientId, await signWith(clientId, issued.key, header)))).to.include({ status: 200 });
      const withoutChain = await post(server.entraTokenEndpoint, request(clientId, await signWith(clientId, issued.key, { 'x5t#S256': thumbprint(issued.cert) })));
      expectEntraError(withoutChain, 401, 'invalid_client', 700027);
      const selfSigned = makeCertificate({ subject: '/CN=chained-app' });
      const impostor = { 'x5t#S256': thumbprint(selfSigned.cert), x5c: [der(selfSigned.cert)] };
      expectEntraError(await post(server.entraTokenEndpoint, request(clientId, await signWith(clientId, selfSigned.key, impostor))), 401, 'invalid_client', 700027);
    });
  });

  describe('federated credentials', () => {
    const federatedRequest = (client_assertion: string) => ({
      grant_type: 'client_credentials',
      client_id: server.entraClient.clientId,
      scope: SCOPE,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion,
    });

    it("takes the server's service-account token (AKS and NAIS audiences) as the default client's assertion", async () => {
      for (const audience of [undefined, 'nais']) {
        const answer = await post(server.entraTokenEndpoint, federatedRequest(await server.mintServiceAccountToken(audience ? { audience } : {})));
        expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
      }
    });

    it('refuses an expired one with 401 AADSTS700024, and another subject or audience with 400 AADSTS70021', async () => {
      expectEntraError(
        await post(server.entraTokenEndpoint, federatedRequest(await server.mintServiceAccountToken({ expiresIn: -1000 }))),
        401,
        'invalid_client',
        700024,
      );
      expectEntraError(
        await post(server.entraTokenEndpoint, federatedRequest(await server.mintServiceAccountToken({ subject: 'system:serviceaccount:team:other' }))),
        400,
        'invalid_request',
        70021,
      );
      expectEntraError(
        await post(server.entraTokenEndpoint, federatedRequest(await server.mintServiceAccountToken({ audience: 'api://other' }))),
        400,
        'invalid_request',
        70021,
      );
    });

    it("refuses a token signed by another issuer's key with AADSTS700027", async () => {
      const other = await startTexasServer();
      const token = await other.mintServiceAccountToken();
      await other.close();
      // Same issuer URL claim would differ (other port): register the other server's issuer with this server's keys.
      const clientId = server.registerEntraClient({
        federated: [{ issuer: other.serviceAccountIssuer, subject: 'system:serviceaccount:team:app', jwks: server.serviceAccountJwks() }],
      });
      expectEntraError(await post(server.entraTokenEndpoint, { ...federatedRequest(token), client_id: clientId }), 401, 'invalid_client', 700027);
    });
  });
});
