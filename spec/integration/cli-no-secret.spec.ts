import { expect } from 'chai';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { type TexasServer } from '../../lib/testing/texas-server.js';
import { makeCertificate } from '../support/certificates.js';
import { ensureBuiltCli, runCli, type CliRun } from '../support/run-cli.js';
import { useTexasServer } from '../support/testing-server.js';

// The built CLI with the credentials that hold no secret (a federated token file, a certificate)
// and with the Azure SDK's variables, against the testing server's Entra ID endpoint, which
// verifies assertions as Entra ID does. Its JSON names the source as events do.

const SCOPE = 'api://dev-gcp.team.other-api/.default';

/** The parts of a JWT (or of a PEM key's body) that must never reach the output. */
function expectNowhere(run: CliRun, ...secrets: string[]): void {
  for (const secret of secrets) {
    expect(run.stdout, 'stdout').not.to.include(secret);
    expect(run.stderr, 'stderr').not.to.include(secret);
  }
}

const jwtParts = (jwt: string) => jwt.split('.').slice(1);
const pemBody = (pem: string) => pem.split('\n').slice(1, 3).join('');

/** The CLI's JSON output (or error), as the fields these specs read. */
interface CliJson {
  source: Record<string, unknown>;
  claims: Record<string, unknown>;
  code?: string;
  errorCodes?: number[];
}
const parse = (text: string) => JSON.parse(text) as CliJson;

describe('axios-m2m token <scope> without a secret (the built CLI)', function () {
  this.timeout(60_000);
  let server: TexasServer;
  let dir: string;
  before(() => {
    ensureBuiltCli();
    dir = mkdtempSync(join(tmpdir(), 'axios-m2m-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  useTexasServer((started) => (server = started));
  const entraRequests = () => server.requests.filter((r) => r.path === new URL(server.entraTokenEndpoint).pathname);

  describe('workload identity (AZURE_FEDERATED_TOKEN_FILE)', () => {
    const aks = (file: string): Record<string, string> => ({
      AZURE_FEDERATED_TOKEN_FILE: file,
      AZURE_CLIENT_ID: server.entraClient.clientId,
      AZURE_TENANT_ID: server.tenantId,
      AZURE_AUTHORITY_HOST: server.url,
    });

    it('gets a token with the file as the assertion, and names the source workload_identity with its token file', async () => {
      const file = join(dir, 'aks-token');
      const assertion = await server.mintServiceAccountToken();
      writeFileSync(file, `${assertion}\n`);
      const json = await runCli(['token', SCOPE, '--json'], aks(file));
      expect(json.stderr).to.equal('');
      expect(json.code).to.equal(0);
      const output = parse(json.stdout);
      expect(output.source).to.deep.equal({ kind: 'workload_identity', token_file: file, endpoint: server.entraTokenEndpoint });
      expect(output.claims).to.include({ aud: 'api://dev-gcp.team.other-api', azp: server.entraClient.clientId, idtyp: 'app' });
      expect(entraRequests().at(-1)).to.deep.include({ status: 200 });
      expect(entraRequests().at(-1)!.body.client_assertion).to.equal(assertion);
      expectNowhere(json, ...jwtParts(assertion));

      const text = await runCli(['token', SCOPE], aks(file));
      expect(text.code).to.equal(0);
      expect(text.stdout).to.include(`source:     workload identity, token file ${file} (${server.entraTokenEndpoint})\n`);
      expectNowhere(text, ...jwtParts(assertion));
    });

    it("takes NAIS's service-account token (audience nais) when NAIS_TOKEN_ENDPOINT is emptied, as the help's recipe does", async () => {
      const file = join(dir, 'nais-token');
      writeFileSync(file, await server.mintServiceAccountToken({ audience: 'nais' }));
      const texasBefore = server.requests.filter((r) => r.path === '/api/v1/token').length;
      const { code, stdout, stderr } = await runCli(['token', SCOPE, '--json'], { ...aks(file), NAIS_TOKEN_ENDPOINT: '', NAIS_SERVICE_ACCOUNT_TOKEN_PATH: file });
      expect(stderr).to.equal('');
      expect(code).to.equal(0);
      expect(parse(stdout).source).to.include({ kind: 'workload_identity', token_file: file });
      expect(server.requests.filter((r) => r.path === '/api/v1/token').length).to.equal(texasBefore);
    });

    it('gives one configuration line naming the path of a missing, empty or unreadable file, exits 2, and sends nothing', async () => {
      const missing = join(dir, 'no-such-token');
      const empty = join(dir, 'empty-token');
      writeFileSync(empty, '\n');
      const unreadable = join(dir, 'a-directory');
      mkdirSync(unreadable, { recursive: true });
      const before = entraRequests().length;
      for (const [file, reason] of [
        [missing, 'does not exist'],
        [empty, 'is empty'],
        [unreadable, 'cannot be read (EISDIR)'],
      ] as const) {
        const run = await runCli(['token', SCOPE], aks(file));
        expect(run.code, file).to.equal(2);
        expect(run.stdout).to.equal('');
        expect(run.stderr).to.equal(
          `axios-m2m: workloadIdentity(): the token file ${file} ${reason}; no token request was sent (${server.entraTokenEndpoint}) [configuration]\n`,
        );
        const json = await runCli(['token', SCOPE, '--json'], aks(file));
        expect(json.code).to.equal(2);
        expect(parse(json.stderr)).to.include({ code: 'configuration', endpoint: server.entraTokenEndpoint });
      }
      expect(entraRequests().length).to.equal(before);
    });

    it('passes on an expired token file as AADSTS700024 (after the one retry), exit 1, without the assertion', async () => {
      const file = join(dir, 'expired-token');
      const expired = await server.mintServiceAccountToken({ expiresIn: -60_000 });
      writeFileSync(file, expired);
      const before = entraRequests().length;
      const run = await runCli(['token', SCOPE, '--json'], aks(file));
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      const error = parse(run.stderr);
      expect(error).to.include({ code: 'invalid_client', status: 401 });
      expect(error.errorCodes).to.deep.equal([700024]);
      expect(entraRequests().length - before).to.equal(2);
      expectNowhere(run, ...jwtParts(expired));
    });
  });

  describe('a certificate (AZURE_CLIENT_CERTIFICATE_PATH)', () => {
    const credential = makeCertificate({ subject: '/CN=cli-cert-app' });
    const env = (clientId: string, path: string, extra: Record<string, string> = {}): Record<string, string> => ({
      AZURE_CLIENT_CERTIFICATE_PATH: path,
      AZURE_CLIENT_ID: clientId,
      AZURE_TENANT_ID: server.tenantId,
      AZURE_AUTHORITY_HOST: `${server.url}/`,
      ...extra,
    });

    it('signs with the certificate (x5t#S256, no x5c) and names the source client_credentials with auth certificate', async () => {
      const clientId = server.registerEntraClient({ certificates: [credential.cert] });
      const path = join(dir, 'cert.pem');
      writeFileSync(path, `${credential.cert}${credential.key}`);
      const run = await runCli(['token', SCOPE, '--json'], env(clientId, path));
      expect(run.stderr).to.equal('');
      expect(run.code).to.equal(0);
      const output = parse(run.stdout);
      expect(output.source).to.deep.equal({ kind: 'client_credentials', auth: 'certificate', endpoint: server.entraTokenEndpoint });
      expect(output.claims).to.include({ azp: clientId });
      const sent = String(entraRequests().at(-1)!.body.client_assertion);
      const thumbprint = createHash('sha256').update(new X509Certificate(credential.cert).raw).digest('base64url');
      expect(decodeProtectedHeader(sent)).to.deep.equal({ alg: 'PS256', typ: 'JWT', 'x5t#S256': thumbprint });
      expectNowhere(run, ...jwtParts(sent), pemBody(credential.key));
      const text = await runCli(['token', SCOPE], env(clientId, path));
      expect(text.stdout).to.include(`source:     client credentials, certificate (${server.entraTokenEndpoint})\n`);
    });

    it('sends the chain with AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=true, for a client trusted by subject name and issuer', async () => {
      const ca = makeCertificate({ subject: '/CN=cli-ca', ca: true });
      const issued = makeCertificate({ subject: '/CN=cli-chain-app', issuer: ca });
      const clientId = server.registerEntraClient({ trustedSubjects: [{ subject: 'CN=cli-chain-app', issuer: ca.cert }] });
      const path = join(dir, 'chain.pem');
      writeFileSync(path, `${issued.key}${issued.cert}${ca.cert}`);
      const withChain = await runCli(['token', SCOPE], env(clientId, path, { AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: 'true' }));
      expect(withChain.stderr).to.equal('');
      expect(withChain.code).to.equal(0);
      const without = await runCli(['token', SCOPE], env(clientId, path));
      expect(without.code).to.equal(1);
      expect(without.stderr).to.match(/^axios-m2m: token request for \S+ failed: 401 invalid_client: AADSTS700027: .*\[invalid_client\]\n$/);
      expectNowhere(without, pemBody(issued.key));
    });

    it('gives one configuration line naming a missing path or a file without a key, exits 2, and sends nothing', async () => {
      const missing = join(dir, 'no-such.pem');
      const noKey = join(dir, 'no-key.pem');
      writeFileSync(noKey, credential.cert);
      const before = entraRequests().length;
      const cases: [string, string][] = [
        [missing, `fromEnv(): AZURE_CLIENT_CERTIFICATE_PATH ${missing} cannot be read (ENOENT)`],
        [noKey, `fromEnv(): AZURE_CLIENT_CERTIFICATE_PATH ${noKey} holds no PEM private key`],
      ];
      for (const [path, message] of cases) {
        const run = await runCli(['token', SCOPE], env('some-client', path));
        expect(run.code, path).to.equal(2);
        expect(run.stdout).to.equal('');
        expect(run.stderr).to.equal(`axios-m2m: ${message} [configuration]\n`);
      }
      expect(entraRequests().length).to.equal(before);
    });

    it('refuses a key that does not match the certificate (configuration, exit 2) without quoting the key', async () => {
      const other = makeCertificate({ subject: '/CN=cli-other' });
      const path = join(dir, 'mismatch.pem');
      writeFileSync(path, `${other.key}${credential.cert}`);
      const run = await runCli(['token', SCOPE], env('some-client', path));
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/^axios-m2m: .*does not match the certificate \(CN=cli-cert-app\) \[configuration\]\n$/);
      expectNowhere(run, pemBody(other.key));
    });
  });

  describe("the Azure SDK's client secret (AZURE_CLIENT_SECRET)", () => {
    it('gets a token from <AZURE_AUTHORITY_HOST>/<AZURE_TENANT_ID>/oauth2/v2.0/token, without the secret in the output', async () => {
      const env = {
        AZURE_CLIENT_SECRET: server.entraClient.clientSecret,
        AZURE_CLIENT_ID: server.entraClient.clientId,
        AZURE_TENANT_ID: server.tenantId,
        AZURE_AUTHORITY_HOST: server.url,
      };
      const run = await runCli(['token', SCOPE, '--json'], env);
      expect(run.stderr).to.equal('');
      expect(run.code).to.equal(0);
      expect(parse(run.stdout).source).to.deep.equal({ kind: 'client_credentials', auth: 'client_secret', endpoint: server.entraTokenEndpoint });
      expect(entraRequests().at(-1)!.body).to.include({ client_secret: server.entraClient.clientSecret });
      expectNowhere(run, server.entraClient.clientSecret);
      const missing = await runCli(['token', SCOPE], { AZURE_CLIENT_SECRET: server.entraClient.clientSecret });
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.equal(
        'axios-m2m: fromEnv(): AZURE_TENANT_ID and AZURE_CLIENT_ID are not set; client credentials with AZURE_CLIENT_SECRET need them [configuration]\n',
      );
      expectNowhere(missing, server.entraClient.clientSecret);
    });
  });
});
