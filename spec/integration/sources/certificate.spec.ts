import { expect } from 'chai';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { fromEnv } from '../../../lib/sources/from-env.js';
import { type TexasServer } from '../../../lib/testing/texas-server.js';
import { useTexasServer } from '../../support/testing-server.js';
import { makeCertificate } from '../../support/certificates.js';

// clientCredentials({ certificate }) against the testing server's Entra ID endpoint, which finds
// the certificate by x5t#S256 (or trusts the x5c chain by subject name and issuer) and verifies the
// signature, iss/sub, aud and exp as Entra ID does.

const SCOPE = 'api://dev-gcp.team.api/.default';
const thumbprint = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');

describe('clientCredentials({ certificate }) against the Entra ID endpoint', () => {
  let server: TexasServer;
  const leaf = makeCertificate({ subject: '/CN=cert-app' });
  const ca = makeCertificate({ subject: '/CN=cert-ca', ca: true });
  const issued = makeCertificate({ subject: '/CN=chain-app', issuer: ca });
  useTexasServer((started) => (server = started));

  it('signs a fresh PS256 assertion with x5t#S256 and no x5c, which the endpoint takes', async () => {
    const clientId = server.registerEntraClient({ certificates: [leaf.cert] });
    const source = clientCredentials({ tokenEndpoint: server.entraTokenEndpoint, clientId, certificate: { key: leaf.key, cert: leaf.cert }, allowInsecure: true });
    await source.getToken(SCOPE);
    await source.getToken(SCOPE, { forceRefresh: true });
    const sent = server.requests.filter((r) => r.body.client_id === clientId).map((r) => String(r.body.client_assertion));
    expect(sent).to.have.length(2);
    expect(server.requests.filter((r) => r.body.client_id === clientId).map((r) => r.status)).to.deep.equal([200, 200]);
    const header = decodeProtectedHeader(sent[0]!);
    expect(header).to.deep.equal({ alg: 'PS256', typ: 'JWT', 'x5t#S256': thumbprint(leaf.cert) });
    const claims = decodeJwt(sent[0]!);
    expect(claims).to.include({ iss: clientId, sub: clientId, aud: server.entraTokenEndpoint });
    expect(claims.exp! - claims.iat!).to.equal(300);
    expect(decodeJwt(sent[1]!).jti).not.to.equal(claims.jti);
  });

  it('sends the chain as x5c with sendChain (a KeyObject key), for a client trusted by subject name and issuer', async () => {
    const clientId = server.registerEntraClient({ trustedSubjects: [{ subject: 'CN=chain-app', issuer: ca.cert }] });
    const certificate = { key: createPrivateKey(issued.key), cert: `${issued.cert}${ca.cert}`, sendChain: true };
    await clientCredentials({ tokenEndpoint: server.entraTokenEndpoint, clientId, certificate, allowInsecure: true }).getToken(SCOPE);
    const header = decodeProtectedHeader(String(server.requests.at(-1)!.body.client_assertion));
    expect(header.x5c).to.deep.equal([issued.cert, ca.cert].map((pem) => new X509Certificate(pem).raw.toString('base64')));
    const without = clientCredentials({
      tokenEndpoint: server.entraTokenEndpoint,
      clientId,
      certificate: { ...certificate, sendChain: false },
      allowInsecure: true,
      retries: 0,
    });
    const error = await without.getToken(SCOPE).catch((e: unknown) => e as TokenError);
    expect(error).to.include({ code: 'invalid_client', status: 401 });
    expect((error as TokenError).errorCodes).to.deep.equal([700027]);
  });

  it('refuses at creation a key that does not match, an expired certificate, and a non-RSA key, naming what is wrong and never the key', () => {
    const other = makeCertificate({ subject: '/CN=other' });
    const expired = makeCertificate({ subject: '/CN=old', days: -1 });
    const ec = makeCertificate({ subject: '/CN=ec', keyType: 'ec' });
    const cases: [object, RegExp, string][] = [
      [{ key: other.key, cert: leaf.cert }, /does not match the certificate \(CN=cert-app\)/, other.key],
      [{ key: expired.key, cert: expired.cert }, /certificate that expired on /, expired.key],
      [{ key: ec.key, cert: ec.cert }, /has a key of type ec; Entra ID takes RSA certificates only/, ec.key],
    ];
    for (const [certificate, message, key] of cases) {
      let error: unknown;
      try {
        clientCredentials({ tokenEndpoint: server.entraTokenEndpoint, clientId: 'c', certificate: certificate as never, allowInsecure: true });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(TokenError).and.include({ code: 'configuration' });
      expect((error as Error).message).to.match(message);
      const body = key.split('\n').slice(1, 3).join('');
      for (const view of [inspect(error), JSON.stringify(error), String(error)]) expect(view.replace(/\n/g, '')).not.to.include(body);
    }
  });

  it('is what fromEnv() makes of AZURE_CLIENT_CERTIFICATE_PATH (key and certificate in one PEM, either order) and AZURE_CLIENT_SEND_CERTIFICATE_CHAIN', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axios-m2m-cert-env-'));
    try {
      const clientId = server.registerEntraClient({ certificates: [leaf.cert] });
      for (const [name, content, chain] of [
        ['a.pem', `${leaf.key}${leaf.cert}`, '1'],
        ['b.pem', `${leaf.cert}${leaf.key}`, 'false'],
      ] as const) {
        writeFileSync(join(dir, name), content);
        const env = {
          AZURE_TENANT_ID: server.tenantId,
          AZURE_CLIENT_ID: clientId,
          AZURE_AUTHORITY_HOST: server.url,
          AZURE_CLIENT_CERTIFICATE_PATH: join(dir, name),
          AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: chain,
        };
        await fromEnv({ env, allowInsecure: true }).getToken(SCOPE);
        const header = decodeProtectedHeader(String(server.requests.at(-1)!.body.client_assertion));
        expect(header['x5t#S256']).to.equal(thumbprint(leaf.cert));
        expect(header.x5c !== undefined).to.equal(chain === '1');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
