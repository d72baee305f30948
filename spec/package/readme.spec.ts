import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The README's quick starts, run exactly as written (extracted from README.md) against a
// Texas-shaped and an Entra-shaped token endpoint and an API on loopback.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCOPE = 'api://dev-gcp.team.other-api/.default';

function quickStart(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = readme.match(new RegExp(`<!-- quick-start:${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``));
  if (!match) throw new Error(`README.md has no quick-start:${name} block`);
  return match[1]!;
}

describe('README quick starts', function () {
  this.timeout(60_000);
  let server: Server;
  let origin: string;
  const dir = join(ROOT, '.tmp', 'readme-spec');
  const tokenRequests: { path: string; body: string }[] = [];
  const seenTokens: (string | undefined)[] = [];

  before(async () => {
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    mkdirSync(dir, { recursive: true });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url === '/api/v1/token' || req.url === '/tenant/oauth2/v2.0/token') {
          tokenRequests.push({ path: req.url, body });
          return res.end(JSON.stringify({ access_token: `token-for-${req.url.length}`, expires_in: 3599, token_type: 'Bearer' }));
        }
        seenTokens.push(req.headers.authorization);
        res.end(JSON.stringify({ things: [1, 2, 3] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    tokenRequests.length = 0;
    seenTokens.length = 0;
  });

  function run(name: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    const file = join(dir, `${name}.mts`);
    writeFileSync(file, quickStart(name));
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', API_URL: origin, ...env } }, (error, stdout, stderr) =>
        resolve({ code: error ? -1 : 0, stdout, stderr }),
      );
    });
  }

  it('the first run on a laptop runs as written against the testing server: three 200s, one token request', async () => {
    const result = await run('first-run', {});
    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
    expect(result.stdout.trim().split('\n')).to.deep.equal([
      "1 { hello: 'app', audience: 'api://local.team.other-api' }",
      "2 { hello: 'app', audience: 'api://local.team.other-api' }",
      "3 { hello: 'app', audience: 'api://local.team.other-api' }",
      'token requests to Texas: 1',
    ]);
  });

  it('puts the first runnable sample (no NAIS, no Entra ID) within the first 150 lines, and the README under 60,000 characters', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const line = readme.slice(0, readme.indexOf('<!-- quick-start:first-run -->')).split('\n').length;
    expect(line).to.be.below(150);
    // npm keeps the first 65,536 characters of a readme: room to spare.
    expect(readme.length).to.be.below(60_000);
  });

  it('the Texas quick start gets a token from Texas and calls the API with it', async () => {
    const result = await run('texas', { NAIS_TOKEN_ENDPOINT: `${origin}/api/v1/token` });
    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
    expect(result.stdout).to.include('things');
    expect(JSON.parse(tokenRequests[0]!.body)).to.deep.equal({ identity_provider: 'entra_id', target: SCOPE });
    expect(seenTokens).to.deep.equal(['Bearer token-for-13']);
  });

  it('the client-credentials quick start uses the AZURE_* variables', async () => {
    const result = await run('client-credentials', {
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: `${origin}/tenant/oauth2/v2.0/token`,
      AZURE_APP_CLIENT_ID: 'client',
      AZURE_APP_CLIENT_SECRET: 'secret',
    });
    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
    expect(Object.fromEntries(new URLSearchParams(tokenRequests[0]!.body))).to.deep.equal({
      grant_type: 'client_credentials',
      client_id: 'client',
      scope: SCOPE,
      client_secret: 'secret',
    });
    expect(seenTokens).to.deep.equal(['Bearer token-for-25']);
  });
});
