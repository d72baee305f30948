import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SignJWT, type JWK } from 'jose';

// Runs the BUILT CLI (dist/cli.js, the package's bin) as a user would, against a token endpoint
// stub on loopback that speaks both Entra ID's form and Texas's JSON.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const SCOPE = 'api://dev-gcp.team.other-api/.default';
const SECRET = 'cli-secret~value';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    // Only what the test gives: the developer's own AZURE_*/NAIS_* variables must not leak in.
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

interface Received {
  path: string;
  contentType: string;
  body: Record<string, unknown>;
}

describe('axios-m2m token <scope> (the built CLI)', function () {
  this.timeout(60_000);
  let server: Server;
  let origin: string;
  let jwt: string;
  const received: Received[] = [];
  /** What the stub answers next: [status, body]. */
  let reply: [number, unknown];

  before(async () => {
    if (!existsSync(CLI)) {
      // `npm test` builds first; a lone `npx mocha spec/cli` may not have.
      try {
        execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
      } catch (error) {
        throw new Error(`dist/cli.js is missing and \`npm run build\` failed: ${(error as Error).message}`);
      }
    }
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    jwt = await new SignJWT({ roles: ['access_as_application'], azp: 'client-id' })
      .setProtectedHeader({ alg: 'RS256', kid: 'stub-key', typ: 'JWT' })
      .setIssuer('https://login.example/tenant/v2.0')
      .setAudience('api://dev-gcp.team.other-api')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    server = createServer(async (req, res) => {
      const text = await read(req);
      const contentType = String(req.headers['content-type'] ?? '');
      const body = contentType.startsWith('application/json') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
      received.push({ path: req.url ?? '', contentType, body });
      res.writeHead(reply[0], { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply[1]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    received.length = 0;
    reply = [200, { token_type: 'Bearer', expires_in: 3599, access_token: jwt }];
  });

  const azure = (): Record<string, string> => ({
    AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: `${origin}/tenant/oauth2/v2.0/token`,
    AZURE_APP_CLIENT_ID: 'client-id',
    AZURE_APP_CLIENT_SECRET: SECRET,
  });

  it('prints the source, expires_in and the decoded header and claims, but not the token', async () => {
    const { code, stdout, stderr } = await run(['token', SCOPE], azure());
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(stdout).to.include(`source:     client credentials, client_secret (${origin}/tenant/oauth2/v2.0/token)`);
    expect(stdout).to.include(`scope:      ${SCOPE}`);
    expect(stdout).to.match(/expires_in: 359\d s \(at \d{4}-\d\d-\d\dT/);
    expect(stdout).to.include('"kid": "stub-key"');
    expect(stdout).to.include('"aud": "api://dev-gcp.team.other-api"');
    expect(stdout).to.include('"access_as_application"');
    expect(stdout).to.not.include(jwt);
    expect(stdout).to.not.include(jwt.split('.')[2]);
    expect(stdout).to.not.include(SECRET);
    expect(received).to.have.length(1);
    expect(received[0]!.body).to.deep.equal({ grant_type: 'client_credentials', client_id: 'client-id', scope: SCOPE, client_secret: SECRET });
  });

  it('prints one JSON object with --json, still without the token', async () => {
    const { code, stdout } = await run(['token', SCOPE, '--json'], azure());
    expect(code).to.equal(0);
    const output = JSON.parse(stdout);
    expect(output).to.have.all.keys('source', 'scope', 'expires_in', 'expires_at', 'format', 'header', 'claims');
    expect(output.source).to.deep.equal({ kind: 'client_credentials', auth: 'client_secret', endpoint: `${origin}/tenant/oauth2/v2.0/token` });
    expect(output.scope).to.equal(SCOPE);
    expect(output.expires_in).to.be.within(3590, 3599);
    expect(output.format).to.equal('jwt');
    expect(output.header).to.deep.equal({ alg: 'RS256', kid: 'stub-key', typ: 'JWT' });
    expect(output.claims).to.include({ iss: 'https://login.example/tenant/v2.0', azp: 'client-id' });
    expect(stdout).to.not.include(jwt);
  });

  it('prints the token alone with --raw, and as a field with --json --raw', async () => {
    const raw = await run(['token', SCOPE, '--raw'], azure());
    expect(raw.code).to.equal(0);
    expect(raw.stdout).to.equal(`${jwt}\n`);
    const json = await run(['token', SCOPE, '--json', '--raw'], azure());
    expect(JSON.parse(json.stdout).token).to.equal(jwt);
  });

  it('says that an opaque token is opaque', async () => {
    reply = [200, { token_type: 'Bearer', expires_in: 600, access_token: 'opaque-token-value' }];
    const { code, stdout } = await run(['token', SCOPE], azure());
    expect(code).to.equal(0);
    expect(stdout).to.include('token:      opaque (not a JWT)');
    expect(stdout).to.not.include('opaque-token-value');
    const json = JSON.parse((await run(['token', SCOPE, '--json'], azure())).stdout);
    expect(json).to.include({ format: 'opaque' }).and.not.have.any.keys('header', 'claims', 'token');
  });

  it('asks Texas when NAIS_TOKEN_ENDPOINT is set, and says so', async () => {
    const { code, stdout } = await run(['token', SCOPE, '--json'], { ...azure(), NAIS_TOKEN_ENDPOINT: `${origin}/api/v1/token` });
    expect(code).to.equal(0);
    expect(JSON.parse(stdout).source).to.deep.equal({ kind: 'texas', endpoint: `${origin}/api/v1/token` });
    expect(received[0]).to.deep.include({ path: '/api/v1/token', body: { identity_provider: 'entra_id', target: SCOPE } });
    const text = await run(['token', SCOPE], { NAIS_TOKEN_ENDPOINT: `${origin}/api/v1/token` });
    expect(text.stdout).to.include(`source:     Texas (${origin}/api/v1/token)`);
  });

  it('uses private_key_jwt when only AZURE_APP_JWK is set', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'cli-key' };
    const { AZURE_APP_CLIENT_SECRET: _secret, ...withoutSecret } = azure();
    const { code, stdout } = await run(['token', SCOPE, '--json'], { ...withoutSecret, AZURE_APP_JWK: JSON.stringify(jwk) });
    expect(code).to.equal(0);
    expect(JSON.parse(stdout).source.auth).to.equal('private_key_jwt');
    expect(received[0]!.body).to.include({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' });
    expect(received[0]!.body).to.not.have.property('client_secret');
  });

  it('reports a refused token request as one line on stderr with its code, and exits 1', async () => {
    reply = [401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] }];
    const { code, stdout, stderr } = await run(['token', SCOPE], azure());
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    expect(stderr).to.equal(
      `axios-m2m: token request for ${SCOPE} failed: 401 invalid_client: AADSTS7000215: Invalid client secret provided. (${origin}/tenant/oauth2/v2.0/token) [invalid_client]\n`,
    );
    expect(stderr).to.not.include(SECRET);
  });

  it('reports a missing configuration with code configuration, and exits 2', async () => {
    const { code, stdout, stderr } = await run(['token', SCOPE], {});
    expect(code).to.equal(2);
    expect(stdout).to.equal('');
    expect(stderr.split('\n')).to.have.length(2); // one line and its newline
    expect(stderr).to.match(/^axios-m2m: fromEnv\(\): no token source configured: .*NAIS_TOKEN_ENDPOINT.* \[configuration\]\n$/);
  });

  it('refuses a wrong command line with a hint, and exits 2', async () => {
    for (const args of [[], ['tokens', SCOPE], ['token'], ['token', SCOPE, '--bogus'], ['token', 'a', 'b']]) {
      const { code, stderr } = await run(args, azure());
      expect(code, args.join(' ')).to.equal(2);
      expect(stderr, args.join(' ')).to.match(/^axios-m2m: .+ \(axios-m2m --help\)\n$/);
    }
    expect(received).to.have.length(0);
  });

  it('prints its usage with --help and exits 0', async () => {
    const { code, stdout } = await run(['--help'], {});
    expect(code).to.equal(0);
    expect(stdout).to.match(/^Usage: axios-m2m token <scope> \[--json\] \[--raw\]/);
  });
});

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
