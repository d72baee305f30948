import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { runExample } from '../../support/run-example.js';
import { asyncListener } from '../../support/async-listener.js';

// Runs every recipe in examples/ as a user would (node --import tsx, inputs from the environment)
// against loopback stand-ins: a Texas-shaped token endpoint, an Entra-shaped one, a vault, and an
// API that accepts only tokens those issued. The examples import 'axios-m2m', which resolves to the
// built package in dist/ (npm test builds it first).

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SCOPE = 'api://dev-gcp.team.other-api/.default';

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => resolve(text));
  });
}

describe('examples/ (recipes)', function () {
  this.timeout(60_000);
  let server: Server;
  let origin: string;
  let issued: Map<string, string>; // token -> scope
  let counts: { texas: number; entra: number; vault: number; skipCache: number };
  let apiCalls: { path: string; scope: string | undefined }[];
  let flakyAnswered: boolean;

  before(async () => {
    if (!existsSync(fileURLToPath(new URL('../../../dist/index.js', import.meta.url)))) {
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    }
    server = createServer(
      asyncListener(async (req, res) => {
        const text = await read(req);
        const json = (status: number, body: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        const issue = (scope: string, prefix: string) => {
          const token = `${prefix}.${Buffer.from(scope).toString('base64url')}.${issued.size + 1}`;
          issued.set(token, scope);
          return token;
        };
        const path = (req.url ?? '').split('?')[0]!;
        if (path === '/api/v1/token') {
          counts.texas += 1;
          const body = (req.headers['content-type'] ?? '').startsWith('application/json')
            ? (JSON.parse(text) as Record<string, unknown>)
            : Object.fromEntries(new URLSearchParams(text));
          if (body.skip_cache === true || body.skip_cache === 'true') counts.skipCache += 1;
          const target = String(body.target);
          if (target.includes('unknown')) {
            return json(400, { error: 'invalid_scope', error_description: `AADSTS70011: The provided value for scope ${target} is not valid.` });
          }
          return json(200, { access_token: issue(target, 'texas'), expires_in: 3599, token_type: 'Bearer' });
        }
        if (path === '/tenant/oauth2/v2.0/token') {
          counts.entra += 1;
          const form = Object.fromEntries(new URLSearchParams(text));
          if (form.client_secret !== 'example-secret') {
            return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
          }
          return json(200, { token_type: 'Bearer', expires_in: 3599, access_token: issue(form.scope!, 'entra') });
        }
        if (path === '/token') {
          counts.vault += 1;
          const { scope } = JSON.parse(text) as { scope: string };
          return json(200, { token: issue(scope, 'vault'), expires_at: new Date(Date.now() + 3_600_000).toISOString() });
        }
        // The API.
        const bearer = req.headers.authorization?.replace(/^Bearer /, '');
        const scope = bearer === undefined ? undefined : issued.get(bearer);
        apiCalls.push({ path, scope });
        if (path === '/health') return json(200, { healthy: true, token: bearer !== undefined });
        if (scope === undefined) return json(401, { error: 'invalid_token' });
        if (path === '/flaky' && !flakyAnswered) {
          flakyAnswered = true;
          return json(503, { error: 'try again' });
        }
        return json(200, { path, aud: scope.replace(/\/\.default$/, '') });
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    issued = new Map();
    counts = { texas: 0, entra: 0, vault: 0, skipCache: 0 };
    apiCalls = [];
    flakyAnswered = false;
  });

  const texasEnv = () => ({ NAIS_TOKEN_ENDPOINT: `${origin}/api/v1/token`, API_URL: origin, SCOPE });

  it('attach-texas.ts: three requests, one Texas token request', async () => {
    const { code, stdout, stderr } = await runExample('attach-texas.ts', texasEnv());
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(stdout.match(/GET \/things #\d: 200/g)).to.have.length(3);
    expect(counts.texas).to.equal(1);
    expect(apiCalls.every((c) => c.scope === SCOPE)).to.equal(true);
  });

  it('client-credentials.ts: explicit options, one token request', async () => {
    const { code, stdout } = await runExample('client-credentials.ts', {
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: `${origin}/tenant/oauth2/v2.0/token`,
      AZURE_APP_CLIENT_ID: 'example-client',
      AZURE_APP_CLIENT_SECRET: 'example-secret',
      API_URL: origin,
      SCOPE,
    });
    expect(code).to.equal(0);
    expect(stdout).to.include('GET /things twice: 200, 200; scopes cached: 1');
    expect(counts.entra).to.equal(1);
  });

  it('client-credentials.ts: a wrong secret ends in one clear line and exit code 1', async () => {
    const { code, stderr } = await runExample('client-credentials.ts', {
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: `${origin}/tenant/oauth2/v2.0/token`,
      AZURE_APP_CLIENT_ID: 'example-client',
      AZURE_APP_CLIENT_SECRET: 'wrong-secret-value',
      API_URL: origin,
      SCOPE,
    });
    expect(code).to.equal(1);
    expect(stderr.trim()).to.equal(
      `token error [invalid_client]: token request for ${SCOPE} failed: 401 invalid_client: AADSTS7000215: Invalid client secret provided. (${origin}/tenant/oauth2/v2.0/token)`,
    );
    expect(stderr).to.not.include('wrong-secret-value');
  });

  it('express-app.ts: a route calls the API; a TokenError becomes a 502 without details', async () => {
    const { code, stdout, stderr } = await runExample('express-app.ts', texasEnv());
    expect(code).to.equal(0);
    expect(stdout).to.include(`GET /things: 200 {"things":{"path":"/things","aud":"api://dev-gcp.team.other-api"}}`);
    expect(stdout).to.include('GET /broken: 502 {"error":"upstream authentication failed"}');
    expect(stdout).to.not.include('AADSTS');
    expect(stderr).to.include('token error [invalid_scope]');
  });

  it('scopes.ts: instance, request and function scopes, and token: false', async () => {
    const { code, stdout } = await runExample('scopes.ts', { NAIS_TOKEN_ENDPOINT: `${origin}/api/v1/token`, API_URL: origin });
    expect(code).to.equal(0);
    expect(apiCalls.map((c) => [c.path, c.scope])).to.deep.equal([
      ['/things', 'api://dev-gcp.team.orders/.default'],
      ['/things', 'api://dev-gcp.team.audit/.default'],
      ['/users/things', 'api://dev-gcp.team.users/.default'],
      ['/things', 'api://dev-gcp.team.gateway/.default'],
      ['/health', undefined],
    ]);
    expect(stdout).to.include('token: false: {"healthy":true,"token":false}');
  });

  it('custom-source.ts: ten concurrent requests share one vault call', async () => {
    const { code, stdout } = await runExample('custom-source.ts', { VAULT_URL: origin, API_URL: origin, SCOPE });
    expect(code).to.equal(0);
    expect(stdout).to.include('10 concurrent requests: 10 answered 200');
    expect(counts.vault).to.equal(1);
  });

  it('with-axios-retry.ts: axios-retry re-sends the 503, with a token again', async () => {
    const { code, stdout } = await runExample('with-axios-retry.ts', texasEnv());
    expect(code).to.equal(0);
    expect(stdout).to.include('GET /flaky: 200 after 1 retry by axios-retry');
    expect(apiCalls.filter((c) => c.path === '/flaky').map((c) => c.scope)).to.deep.equal([SCOPE, SCOPE]);
    expect(counts.texas).to.equal(1);
  });

  it('metrics-prom-client.ts: one miss, nine hits, one token request in the histogram', async () => {
    const { code, stdout } = await runExample('metrics-prom-client.ts', texasEnv());
    expect(code).to.equal(0);
    expect(stdout).to.include('m2m_tokens_served_total{source="texas",cache="miss"} 1');
    expect(stdout).to.include('m2m_tokens_served_total{source="texas",cache="hit"} 9');
    expect(stdout).to.match(/m2m_token_request_duration_seconds_count\{source="texas",outcome="ok",reason="miss"\} 1/);
  });

  it('logging-pino.ts: JSON log lines for the fetch, with no token in them', async () => {
    const { code, stdout } = await runExample('logging-pino.ts', texasEnv());
    expect(code).to.equal(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; token?: { scope: string } });
    expect(lines.map((l) => l.msg)).to.deep.equal(['token fetched']);
    expect(lines[0]!.token).to.include({ scope: SCOPE, source: 'texas', outcome: 'ok' });
    for (const token of issued.keys()) expect(stdout).to.not.include(token);
  });
});
