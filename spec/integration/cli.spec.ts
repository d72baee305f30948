import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWK } from 'jose';
import { startTexasServer, type TexasServer } from '../../lib/testing/texas-server.js';
import { CLI, ensureBuiltCli, runCli, type CliRun as Run } from '../support/run-cli.js';
import { asyncListener } from '../support/async-listener.js';

// Runs the BUILT CLI (dist/cli.js, the package's bin) as a user would: against the Texas-faithful
// testing server (axios-m2m/testing) for Texas, both identity providers, and against a stub of
// Entra ID's token endpoint on loopback for client credentials.

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const SECRET = 'cli-secret~value';
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const run = runCli;

/** Runs the CLI with a stdout whose reader is gone before anything is written (`… | head -c0`). */
function runWithClosedStdout(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // our end of the pipe closes now; the CLI's first write gets EPIPE
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: '', stderr }));
  });
}

interface Received {
  path: string;
  contentType: string;
  body: Record<string, unknown>;
}

/** What the CLI prints with --json, as far as these specs read it. */
interface TokenOutput {
  source: Record<string, string>;
  scope: string;
  expires_in: number;
  format: string;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  token?: string;
}

/** What the CLI prints on stderr with --json when it fails. */
interface ErrorOutput {
  code: string;
  message: string;
  errorCodes?: number[];
}

describe('axios-m2m token <scope> (the built CLI)', function () {
  this.timeout(60_000);
  let server: Server;
  let texasServer: TexasServer;
  let origin: string;
  let jwt: string;
  const received: Received[] = [];
  /** What the stub answers next: [status, body]. */
  let reply: [number, unknown];

  before(async () => {
    ensureBuiltCli();
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    jwt = await new SignJWT({ roles: ['access_as_application'], azp: 'client-id' })
      .setProtectedHeader({ alg: 'RS256', kid: 'stub-key', typ: 'JWT' })
      .setIssuer('https://login.example/tenant/v2.0')
      .setAudience('api://dev-gcp.team.other-api')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    server = createServer(
      asyncListener(async (req, res) => {
        const text = await read(req);
        const contentType = String(req.headers['content-type'] ?? '');
        const body = contentType.startsWith('application/json') ? (JSON.parse(text) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(text));
        received.push({ path: req.url ?? '', contentType, body });
        res.writeHead(reply[0], { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply[1]));
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    texasServer = await startTexasServer();
  });

  after(async () => {
    await texasServer.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

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
    const output = JSON.parse(stdout) as TokenOutput;
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
    expect((JSON.parse(json.stdout) as TokenOutput).token).to.equal(jwt);
  });

  it('exits 0 without a word when the reader of stdout closes early, since the token was received', async () => {
    for (const args of [['token', SCOPE], ['token', SCOPE, '--raw'], ['token', SCOPE, '--json'], ['--help']]) {
      const before = received.length;
      const { code, stderr } = await runWithClosedStdout(args, azure());
      expect(stderr, args.join(' ')).to.equal('');
      expect(code, args.join(' ')).to.equal(0);
      expect(received.length - before).to.equal(args[0] === 'token' ? 1 : 0);
    }
  });

  it('says that an opaque token is opaque', async () => {
    reply = [200, { token_type: 'Bearer', expires_in: 600, access_token: 'opaque-token-value' }];
    const { code, stdout } = await run(['token', SCOPE], azure());
    expect(code).to.equal(0);
    expect(stdout).to.include('token:      opaque (not a JWT)');
    expect(stdout).to.not.include('opaque-token-value');
    const json = JSON.parse((await run(['token', SCOPE, '--json'], azure())).stdout) as TokenOutput;
    expect(json).to.include({ format: 'opaque' }).and.not.have.any.keys('header', 'claims', 'token');
  });

  describe('through Texas (NAIS_TOKEN_ENDPOINT set; the testing server)', () => {
    const nais = (): Record<string, string> => ({ NAIS_TOKEN_ENDPOINT: texasServer.tokenEndpoint });
    const lastRequest = () => texasServer.requests.at(-1)!;

    it('asks Texas for entra_id, even beside AZURE_* variables, and says so', async () => {
      const { code, stdout } = await run(['token', SCOPE, '--json'], { ...azure(), ...nais() });
      expect(code).to.equal(0);
      const output = JSON.parse(stdout) as TokenOutput;
      expect(output.source).to.deep.equal({ kind: 'texas', identity_provider: 'entra_id', endpoint: texasServer.tokenEndpoint });
      expect(output.claims).to.include({ aud: 'api://dev-gcp.team.other-api', idp: 'entra_id' });
      expect(lastRequest()).to.deep.include({ path: '/api/v1/token', status: 200, body: { identity_provider: 'entra_id', target: SCOPE } });
      expect(received).to.have.length(0); // not the AZURE_* endpoint
      const text = await run(['token', SCOPE], nais());
      expect(text.stdout).to.include(`source:     Texas, entra_id (${texasServer.tokenEndpoint})`);
    });

    it('does the Maskinporten lookup: a quoted space-separated scope list, with --resource', async () => {
      const scopes = 'nav:first/scope nav:second/scope';
      const { code, stdout, stderr } = await run(
        ['token', scopes, '--identity-provider', 'maskinporten', '--resource', 'https://api.example.no/', '--json', '--raw'],
        nais(),
      );
      expect(stderr).to.equal('');
      expect(code).to.equal(0);
      expect(lastRequest()).to.deep.include({
        status: 200,
        body: { identity_provider: 'maskinporten', target: scopes, resource: 'https://api.example.no/' },
      });
      const output = JSON.parse(stdout) as TokenOutput;
      expect(output.source).to.deep.equal({ kind: 'texas', identity_provider: 'maskinporten', endpoint: texasServer.tokenEndpoint });
      expect(output).to.include({ scope: scopes, resource: 'https://api.example.no/', format: 'jwt' });
      expect(await texasServer.verify(String(output.token))).to.include({ aud: scopes, idp: 'maskinporten' });
      const text = await run(['token', scopes, '--identity-provider', 'maskinporten'], nais());
      expect(text.code).to.equal(0);
      expect(text.stdout).to.include(`source:     Texas, maskinporten (${texasServer.tokenEndpoint})\nscope:      ${scopes}\n`);
      expect(lastRequest().body).to.deep.equal({ identity_provider: 'maskinporten', target: scopes });
    });

    it("passes on Texas's refusal of an Entra scope without /.default, with its code, and exits 1", async () => {
      const target = 'api://dev-gcp.team.other-api';
      const { code, stdout, stderr } = await run(['token', target], nais());
      expect(code).to.equal(1);
      expect(stdout).to.equal('');
      expect(stderr).to.match(
        new RegExp(`^axios-m2m: token request for ${target} failed: 400 invalid_scope: AADSTS1002012: .* \\(${texasServer.tokenEndpoint}\\) \\[invalid_scope\\]\n$`),
      );
    });

    it('with --json, the refusal is one JSON object on stderr: code, message, status, oauthError, description, scope, endpoint', async () => {
      const target = 'api://dev-gcp.team.other-api';
      const { code, stdout, stderr } = await run(['token', target, '--json'], nais());
      expect(code).to.equal(1);
      expect(stdout).to.equal('');
      expect(stderr.endsWith('}\n')).to.equal(true);
      expect(stderr.trim().split('\n')).to.have.length(1);
      const error = JSON.parse(stderr) as ErrorOutput;
      expect(error).to.have.all.keys('code', 'message', 'status', 'oauthError', 'description', 'scope', 'endpoint');
      expect(error).to.include({ code: 'invalid_scope', oauthError: 'invalid_scope', status: 400, scope: target, endpoint: texasServer.tokenEndpoint });
      expect(error.message).to.match(/^token request for api:\/\/dev-gcp\.team\.other-api failed: 400 invalid_scope: AADSTS1002012: /);
    });

    it('refuses Maskinporten without Texas (configuration, exit 2): client credentials speak only to Entra ID', async () => {
      const { code, stdout, stderr } = await run(['token', 'nav:scope', '--identity-provider', 'maskinporten'], azure());
      expect(code).to.equal(2);
      expect(stdout).to.equal('');
      expect(stderr).to.equal(
        'axios-m2m: Maskinporten tokens come from Texas: NAIS_TOKEN_ENDPOINT is not set (the AZURE_* variables are for Entra ID) [configuration]\n',
      );
      expect(received).to.have.length(0);
    });
  });

  it('uses private_key_jwt when only AZURE_APP_JWK is set', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'cli-key' };
    const { AZURE_APP_CLIENT_SECRET: _secret, ...withoutSecret } = azure();
    const { code, stdout } = await run(['token', SCOPE, '--json'], { ...withoutSecret, AZURE_APP_JWK: JSON.stringify(jwk) });
    expect(code).to.equal(0);
    expect((JSON.parse(stdout) as TokenOutput).source.auth).to.equal('private_key_jwt');
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
    expect(stderr).to.equal(
      'axios-m2m: fromEnv(): no token source configured: set NAIS_TOKEN_ENDPOINT (Texas), or AZURE_OPENID_CONFIG_TOKEN_ENDPOINT, AZURE_APP_CLIENT_ID and AZURE_APP_CLIENT_SECRET or AZURE_APP_JWK (NAIS client credentials), or AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH (Azure SDK client credentials), or AZURE_FEDERATED_TOKEN_FILE with AZURE_TENANT_ID and AZURE_CLIENT_ID (workload identity) [configuration]\n',
    );
  });

  it('with --json, a configuration error is one JSON object on stderr', async () => {
    const { code, stdout, stderr } = await run(['token', SCOPE, '--json'], { AZURE_APP_CLIENT_ID: 'client-id', AZURE_APP_CLIENT_SECRET: SECRET });
    expect(code).to.equal(2);
    expect(stdout).to.equal('');
    expect(JSON.parse(stderr)).to.deep.equal({
      code: 'configuration',
      message: 'fromEnv(): AZURE_OPENID_CONFIG_TOKEN_ENDPOINT is not set; client credentials need it beside AZURE_APP_CLIENT_ID and AZURE_APP_CLIENT_SECRET',
    });
    expect(stderr).to.not.include(SECRET);
  });

  it("with --json, a refused token request keeps Entra ID's fields and never the secret", async () => {
    reply = [
      401,
      { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided: ${SECRET}`, error_codes: [7000215], trace_id: 'trace-1' },
    ];
    const { code, stdout, stderr } = await run(['token', SCOPE, '--json'], azure());
    expect(code).to.equal(1);
    expect(stdout).to.equal('');
    const error = JSON.parse(stderr) as ErrorOutput;
    expect(error).to.include({ code: 'invalid_client', status: 401, scope: SCOPE, traceId: 'trace-1' });
    expect(error.errorCodes).to.deep.equal([7000215]);
    expect(stderr).to.not.include(SECRET);
  });

  it('refuses a wrong command line in one plain line ending with the hint, and exits 2', async () => {
    const cases: [string[], string][] = [
      [[], 'no command given'],
      [['tokens', SCOPE], 'unknown command "tokens"'],
      [['token'], 'token needs a scope'],
      [['token', SCOPE, '--bogus'], 'unknown option --bogus'],
      [['token', SCOPE, '--bogus=1'], 'unknown option --bogus'],
      [['token', SCOPE, '-x'], 'unknown option -x'],
      [['token', SCOPE, '--resource'], '--resource needs a value'],
      [['token', SCOPE, '--json=yes'], '--json takes no value'],
      [['token', 'a', 'b'], 'unexpected argument "b" (quote a space-separated scope list)'],
      [['token', SCOPE, '--identity-provider', 'idporten'], '--identity-provider must be entra_id or maskinporten, got "idporten"'],
      [['token', SCOPE, '--resource', 'https://api.example.no/'], '--resource is for --identity-provider maskinporten'],
      [
        ['token', 'nav:a nav:b'],
        'Entra ID takes one scope (e.g. api://<cluster>.<namespace>.<app>/.default); a space-separated list is for --identity-provider maskinporten',
      ],
      [['token', 'api://x/.default\u0001'], 'expected scope to be printable ASCII scopes separated by single spaces, got "api://x/.default\\u0001"'],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await run(args, azure());
      expect(code, args.join(' ')).to.equal(2);
      expect(stdout, args.join(' ')).to.equal('');
      expect(stderr, args.join(' ')).to.equal(`axios-m2m: ${message} (see axios-m2m --help)\n`);
    }
    expect(received).to.have.length(0);
  });

  it('with --json, a wrong command line is one JSON object on stderr with code usage', async () => {
    const { code, stderr } = await run(['token', SCOPE, '--bogus', '--json'], azure());
    expect(code).to.equal(2);
    expect(JSON.parse(stderr)).to.deep.equal({ code: 'usage', message: 'unknown option --bogus (see axios-m2m --help)' });
  });

  it('prints its usage, options and exit codes with --help, and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const { code, stdout } = await run([flag], {});
      expect(code).to.equal(0);
      expect(stdout).to.match(/^Usage: axios-m2m token <scope> \[--identity-provider <provider>\] \[--resource <uri>\] \[--json\] \[--raw\]\n/);
      for (const option of ['--identity-provider', '--resource', '--json', '--raw', '--version', '--help']) expect(stdout).to.include(option);
      expect(stdout).to.match(/Exit codes:\n {2}0 {2}token received.*\n {2}1 {2}the token request failed.*\n {2}2 {2}usage or configuration error/);
    }
  });

  it('prints the package version with --version or -v, and exits 0', async () => {
    for (const flag of ['--version', '-v']) {
      const { code, stdout, stderr } = await run([flag], {});
      expect(stderr).to.equal('');
      expect(code).to.equal(0);
      expect(stdout).to.equal(`${VERSION}\n`);
    }
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
