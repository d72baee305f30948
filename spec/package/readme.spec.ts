import { expect } from 'chai';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTexasServer, type TexasServer } from '../../lib/testing/texas-server.js';

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

describe('README on-behalf-of quick start, run as written against the testing server', function () {
  this.timeout(60_000);
  const dir = join(ROOT, '.tmp', 'readme-obo-spec');
  let sidecar: TexasServer;
  let api: Server;
  let app: ChildProcess;
  let origin: string;
  let stderr = '';
  const seen: (Record<string, unknown> | null)[] = [];

  /** A port nobody listens on now: the quick start takes its port from PORT and says nothing. */
  async function freePort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
  }

  before(async () => {
    if (!existsSync(join(ROOT, 'dist', 'index.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    mkdirSync(dir, { recursive: true });
    sidecar = await startTexasServer();
    // The other API: answers with the claims of the token it got, if the sidecar signed it.
    api = createServer((req, res) => {
      void sidecar.verify(req.headers.authorization?.replace(/^Bearer /, '') ?? '').then((claims) => {
        seen.push(claims);
        res.writeHead(claims ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(claims ? { sub: claims.sub } : { error: 'invalid_token' }));
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const file = join(dir, 'on-behalf-of.mts');
    writeFileSync(file, quickStart('on-behalf-of'));
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    app = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_V8_COVERAGE: '',
        PORT: String(port),
        API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        NAIS_TOKEN_EXCHANGE_ENDPOINT: sidecar.exchangeEndpoint,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    app.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Up when it answers; a quick start that crashes at start-up fails here with its stderr.
    for (;;) {
      if (app.exitCode !== null) throw new Error(`the quick start exited with ${app.exitCode}: ${stderr}`);
      try {
        await fetch(`${origin}/`);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  after(async () => {
    if (app && app.exitCode === null) {
      const exited = new Promise((resolve) => app.once('close', resolve));
      app.kill();
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => api?.close(() => resolve()));
    await sidecar?.close();
  });
  beforeEach(() => (seen.length = 0));

  it('answers a request without Authorization with a JSON 401 (no_user_token), not an HTML 500 with a stack', async () => {
    const response = await fetch(`${origin}/profile`);
    const body = await response.text();
    expect({ status: response.status, type: response.headers.get('content-type') }).to.deep.equal({
      status: 401,
      type: 'application/json; charset=utf-8',
    });
    expect(JSON.parse(body)).to.deep.equal({ error: 'no_user_token' });
    expect(seen).to.deep.equal([]);
  });

  it("calls the other API with a token exchanged for the caller's", async () => {
    const user = await sidecar.mintUserToken('user-1');
    const response = await fetch(`${origin}/profile`, { headers: { authorization: `Bearer ${user}` } });
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal({ sub: 'user-1' });
    expect(seen).to.have.length(1);
  });

  it('answers an expired user token, which the exchange refuses (invalid_grant), with a JSON 401', async () => {
    const expired = await sidecar.mintUserToken('user-2', { expiresIn: -60_000 });
    const response = await fetch(`${origin}/profile`, { headers: { authorization: `Bearer ${expired}` } });
    expect(response.status).to.equal(401);
    expect(await response.json()).to.deep.equal({ error: 'invalid_grant' });
    expect(seen).to.deep.equal([]);
  });
});
