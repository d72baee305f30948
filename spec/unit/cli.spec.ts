import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import nock from 'nock';
import sinon from 'sinon';
import { main } from '../../lib/cli.js';
import { useNock } from '../support/nock.js';

// The command in-process: its arguments, environment and streams are stand-ins, the token
// endpoints nock, the clock fake (Date only), so that the printed expires_in is exact: the
// sources count a token's life a second short of the answer's expires_in (3599 s prints 3598).

const NOW = Date.UTC(2026, 11, 3, 12, 0, 0);
const SCOPE = 'api://dev-gcp.team.other-api/.default';
const TEXAS = 'http://127.0.0.1:7164';
const ENTRA = 'https://login.example';
const ENTRA_PATH = '/tenant/oauth2/v2.0/token';
const SECRET = 'cli-secret~value';
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
// A JWT for decoding only: the command never checks its signature.
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const JWT = `${b64({ alg: 'RS256', kid: 'stub-key', typ: 'JWT' })}.${b64({ aud: 'api://dev-gcp.team.other-api', azp: 'client-id', roles: ['access_as_application'] })}.c2lnbmF0dXJl`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, env, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  return { code, stdout, stderr };
}

const nais = { NAIS_TOKEN_ENDPOINT: `${TEXAS}/api/v1/token` };
const azure = { AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: `${ENTRA}${ENTRA_PATH}`, AZURE_APP_CLIENT_ID: 'client-id', AZURE_APP_CLIENT_SECRET: SECRET };
const answer = (token = JWT) => ({ token_type: 'Bearer', expires_in: 3599, access_token: token });

describe('cli: axios-m2m in-process', () => {
  useNock();
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => clock.restore());

  describe('--help and --version', () => {
    it('prints the usage, options and exit codes with --help or -h, and exits 0', async () => {
      for (const flag of ['--help', '-h']) {
        const { code, stdout, stderr } = await run([flag]);
        expect(code).to.equal(0);
        expect(stderr).to.equal('');
        expect(stdout).to.match(/^Usage: axios-m2m token <scope> \[--identity-provider <provider>\]/);
        expect(stdout).to.include('Exit codes:\n  0  token received');
        expect(stdout.endsWith('--identity-provider maskinporten\n')).to.equal(true);
      }
      // --help wins over a wrong command line, so that the help is always one flag away.
      expect((await run(['tokens', '--help'])).code).to.equal(0);
    });

    it('prints the package version with --version or -v, and exits 0', async () => {
      for (const flag of ['--version', '-v']) expect(await run([flag])).to.deep.equal({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    });
  });

  describe('a wrong command line (exit 2, nothing asked of any endpoint)', () => {
    const cases: [string[], string][] = [
      [[], 'no command given'],
      [['tokens', SCOPE], 'unknown command "tokens"'],
      [['token'], 'token needs a scope'],
      [['token', 'a', 'b'], 'unexpected argument "b" (quote a space-separated scope list)'],
      [['token', SCOPE, '--bogus'], 'unknown option --bogus'],
      [['token', SCOPE, '-x'], 'unknown option -x'],
      [['token', 'nav:s', '--identity-provider', 'maskinporten', '--resource'], '--resource needs a value'],
      [['token', SCOPE, '--raw=yes'], '--raw takes no value'],
      [['token', SCOPE, '--identity-provider', 'tokenx'], '--identity-provider must be entra_id or maskinporten, got "tokenx"'],
      [['token', SCOPE, '--resource', 'https://r.example'], '--resource is for --identity-provider maskinporten'],
      [
        ['token', `${SCOPE} api://b/.default`],
        'Entra ID takes one scope (e.g. api://<cluster>.<namespace>.<app>/.default); a space-separated list is for --identity-provider maskinporten',
      ],
    ];

    it('says what is wrong in one plain line ending with the hint', async () => {
      for (const [argv, message] of cases) {
        expect(await run(argv, nais), argv.join(' ')).to.deep.equal({ code: 2, stdout: '', stderr: `axios-m2m: ${message} (see axios-m2m --help)\n` });
      }
    });

    it('with --json, as one JSON object on stderr with code usage', async () => {
      const { code, stdout, stderr } = await run(['token', '--json'], nais);
      expect({ code, stdout }).to.deep.equal({ code: 2, stdout: '' });
      expect(JSON.parse(stderr)).to.deep.equal({ code: 'usage', message: 'token needs a scope (see axios-m2m --help)' });
      expect(stderr.trim().split('\n')).to.have.length(1);
    });
  });

  describe('Texas (NAIS_TOKEN_ENDPOINT)', () => {
    it('asks Texas for entra_id, even beside AZURE_* variables, and prints the source, expires_in and the decoded token, not the token', async () => {
      nock(TEXAS).post('/api/v1/token', { identity_provider: 'entra_id', target: SCOPE }).reply(200, answer());
      const { code, stdout, stderr } = await run(['token', SCOPE], { ...azure, ...nais });
      expect({ code, stderr }).to.deep.equal({ code: 0, stderr: '' });
      expect(stdout).to.equal(
        [
          `source:     Texas, entra_id (${TEXAS}/api/v1/token)`,
          `scope:      ${SCOPE}`,
          'expires_in: 3598 s (at 2026-12-03T12:59:58.000Z)',
          'header:     {',
          '              "alg": "RS256",',
          '              "kid": "stub-key",',
          '              "typ": "JWT"',
          '            }',
          'claims:     {',
          '              "aud": "api://dev-gcp.team.other-api",',
          '              "azp": "client-id",',
          '              "roles": [',
          '                "access_as_application"',
          '              ]',
          '            }',
          '',
        ].join('\n'),
      );
      expect(stdout).not.to.include(JWT.split('.')[2]);
    });

    it('asks for Maskinporten with a scope list and --resource, and names the resource', async () => {
      const scopes = 'nav:first/scope nav:second/scope';
      nock(TEXAS).post('/api/v1/token', { identity_provider: 'maskinporten', target: scopes, resource: 'https://api.example' }).reply(200, answer('opaque-token'));
      const { code, stdout } = await run(['token', scopes, '--identity-provider', 'maskinporten', '--resource', 'https://api.example'], nais);
      expect(code).to.equal(0);
      expect(stdout).to.equal(
        [
          `source:     Texas, maskinporten (${TEXAS}/api/v1/token)`,
          `scope:      ${scopes}`,
          'resource:   https://api.example',
          'expires_in: 3598 s (at 2026-12-03T12:59:58.000Z)',
          'token:      opaque (not a JWT), nothing to decode; --raw prints it',
          '',
        ].join('\n'),
      );
    });

    it('names the endpoint by origin and path only: a query string is not printed', async () => {
      nock(TEXAS).post('/api/v1/token').query({ key: 'hidden' }).reply(200, answer());
      const { code, stdout } = await run(['token', SCOPE, '--json'], { NAIS_TOKEN_ENDPOINT: `${TEXAS}/api/v1/token?key=hidden` });
      expect(code).to.equal(0);
      expect(JSON.parse(stdout)).to.deep.include({ source: { kind: 'texas', identity_provider: 'entra_id', endpoint: `${TEXAS}/api/v1/token` } });
      expect(stdout).not.to.include('hidden');
    });

    it("passes on Texas's refusal in one line with its code, and exits 1", async () => {
      nock(TEXAS).post('/api/v1/token').reply(400, { error: 'invalid_scope', error_description: 'AADSTS1002012: The provided value for scope is not valid.' });
      const { code, stdout, stderr } = await run(['token', 'api://x'], nais);
      expect({ code, stdout }).to.deep.equal({ code: 1, stdout: '' });
      expect(stderr).to.equal(
        `axios-m2m: token request for api://x failed: 400 invalid_scope: AADSTS1002012: The provided value for scope is not valid. (${TEXAS}/api/v1/token) [invalid_scope]\n`,
      );
    });

    it('refuses Maskinporten without Texas (configuration, exit 2), asking nothing', async () => {
      expect(await run(['token', 'nav:scope', '--identity-provider', 'maskinporten'], azure)).to.deep.equal({
        code: 2,
        stdout: '',
        stderr: 'axios-m2m: Maskinporten tokens come from Texas: NAIS_TOKEN_ENDPOINT is not set (the AZURE_* variables are for Entra ID) [configuration]\n',
      });
    });
  });

  describe('client credentials (AZURE_*)', () => {
    it('prints one JSON object with --json: the source without the secret, the decoded token, no token', async () => {
      nock(ENTRA).post(ENTRA_PATH, { grant_type: 'client_credentials', client_id: 'client-id', scope: SCOPE, client_secret: SECRET }).reply(200, answer());
      const { code, stdout, stderr } = await run(['token', SCOPE, '--json'], azure);
      expect({ code, stderr }).to.deep.equal({ code: 0, stderr: '' });
      expect(JSON.parse(stdout)).to.deep.equal({
        source: { kind: 'client_credentials', auth: 'client_secret', endpoint: `${ENTRA}${ENTRA_PATH}` },
        scope: SCOPE,
        expires_in: 3598,
        expires_at: '2026-12-03T12:59:58.000Z',
        format: 'jwt',
        header: { alg: 'RS256', kid: 'stub-key', typ: 'JWT' },
        claims: { aud: 'api://dev-gcp.team.other-api', azp: 'client-id', roles: ['access_as_application'] },
      });
      expect(stdout).not.to.include(SECRET);
      expect(stdout).not.to.include(JWT);
    });

    it('prints the source in a line, and the token alone with --raw, or as a field with --json --raw', async () => {
      nock(ENTRA).post(ENTRA_PATH).times(3).reply(200, answer());
      expect((await run(['token', SCOPE], azure)).stdout).to.match(new RegExp(`^source: {5}client credentials, client_secret \\(${ENTRA}${ENTRA_PATH}\\)\n`));
      expect(await run(['token', SCOPE, '--raw'], azure)).to.deep.equal({ code: 0, stdout: `${JWT}\n`, stderr: '' });
      expect((JSON.parse((await run(['token', SCOPE, '--json', '--raw'], azure)).stdout) as { token: string }).token).to.equal(JWT);
    });

    it('reports a refusal with its code and exits 1, never quoting the secret even when Entra ID echoes it', async () => {
      const refusal = {
        error: 'invalid_client',
        error_description: `AADSTS7000215: Invalid client secret provided: ${SECRET}`,
        error_codes: [7000215],
        trace_id: 'trace-1',
      };
      nock(ENTRA).post(ENTRA_PATH).times(2).reply(401, refusal);
      const text = await run(['token', SCOPE], azure);
      expect({ code: text.code, stdout: text.stdout }).to.deep.equal({ code: 1, stdout: '' });
      expect(text.stderr).to.match(new RegExp(`^axios-m2m: token request for ${SCOPE} failed: 401 invalid_client: .* \\[invalid_client\\]\n$`));
      const json = await run(['token', SCOPE, '--json'], azure);
      expect(json.code).to.equal(1);
      const error = JSON.parse(json.stderr) as Record<string, unknown>;
      expect(error).to.include({ code: 'invalid_client', status: 401, scope: SCOPE, traceId: 'trace-1' });
      expect(error.errorCodes).to.deep.equal([7000215]);
      for (const output of [text.stderr, json.stderr]) expect(output).not.to.include(SECRET);
    });

    it('reports an environment that names no source as a configuration error (exit 2)', async () => {
      const text = await run(['token', SCOPE], {});
      expect({ code: text.code, stdout: text.stdout }).to.deep.equal({ code: 2, stdout: '' });
      expect(text.stderr).to.match(/^axios-m2m: fromEnv\(\): no token source configured: set NAIS_TOKEN_ENDPOINT \(Texas\), .* \[configuration\]\n$/);
      const { AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: _endpoint, ...noEndpoint } = azure;
      const json = await run(['token', SCOPE, '--json'], noEndpoint);
      expect(json.code).to.equal(2);
      expect(JSON.parse(json.stderr)).to.deep.equal({
        code: 'configuration',
        message: 'fromEnv(): AZURE_OPENID_CONFIG_TOKEN_ENDPOINT is not set; client credentials need it beside AZURE_APP_CLIENT_ID and AZURE_APP_CLIENT_SECRET',
      });
      expect(json.stderr).not.to.include(SECRET);
    });
  });

  it('reports any other failure as unexpected (exit 1) rather than throwing', async () => {
    let stderr = '';
    const io = {
      stdout: {
        write: () => {
          throw new Error('disk\nfull');
        },
      },
      stderr: { write: (text: string) => (stderr += text) },
    };
    expect(await main(['--version'], {}, io)).to.equal(1);
    expect(stderr).to.equal('axios-m2m: unexpected failure: disk full [unexpected]\n');
  });
});
