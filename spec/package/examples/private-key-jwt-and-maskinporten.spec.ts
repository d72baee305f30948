import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { runExample } from '../../support/run-example.js';
import { asyncListener } from '../../support/async-listener.js';

// Runs examples/private-key-jwt.ts and examples/maskinporten.ts as a user would (node --import tsx,
// inputs from the environment) against loopback stand-ins: an Entra-like token endpoint that
// verifies the client assertion, a Texas endpoint, and an API that checks the bearer token.
// The examples import 'axios-m2m', which resolves to the built package in dist/.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SCOPE = 'api://dev-gcp.team.other-api/.default';
const CLIENT_ID = 'example-client';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateJwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'example-key' };
const jwks = createLocalJWKSet({ keys: [{ ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'example-key', alg: 'RS256' }] });

describe('examples/private-key-jwt.ts and examples/maskinporten.ts', function () {
  this.timeout(60_000);
  let server: Server;
  let origin: string;
  const tokenRequests: Record<string, unknown>[] = [];
  const apiCalls: string[] = [];
  const assertionFailures: string[] = [];

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
        if (req.url === '/tenant/oauth2/v2.0/token') {
          const form = Object.fromEntries(new URLSearchParams(text));
          tokenRequests.push(form);
          try {
            // What Entra ID checks: signature by the registered key, iss/sub = client, aud = endpoint.
            await jwtVerify(form.client_assertion ?? '', jwks, { issuer: CLIENT_ID, subject: CLIENT_ID, audience: `${origin}${req.url}` });
          } catch (error) {
            assertionFailures.push((error as Error).message);
            return json(401, { error: 'invalid_client', error_description: 'AADSTS700027: Client assertion failed signature validation.' });
          }
          return json(200, { token_type: 'Bearer', expires_in: 3599, access_token: 'entra-token' });
        }
        if (req.url === '/api/v1/token') {
          tokenRequests.push(JSON.parse(text) as Record<string, unknown>);
          return json(200, { token_type: 'Bearer', expires_in: 3599, access_token: 'maskinporten-token' });
        }
        if (req.url === '/things') {
          apiCalls.push(String(req.headers.authorization));
          return json(200, { things: 2 });
        }
        json(404, {});
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    tokenRequests.length = 0;
    apiCalls.length = 0;
    assertionFailures.length = 0;
  });

  it('private-key-jwt.ts calls the API twice with one token, got with a signed client assertion', async () => {
    const { code, stdout, stderr } = await runExample('private-key-jwt.ts', {
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: `${origin}/tenant/oauth2/v2.0/token`,
      AZURE_APP_CLIENT_ID: CLIENT_ID,
      AZURE_APP_JWK: JSON.stringify(privateJwk),
      API_URL: origin,
      SCOPE,
    });
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(assertionFailures).to.deep.equal([]);
    expect(tokenRequests).to.have.length(1);
    expect(tokenRequests[0]).to.include({ grant_type: 'client_credentials', client_id: CLIENT_ID, scope: SCOPE });
    expect(apiCalls).to.deep.equal(['Bearer entra-token', 'Bearer entra-token']);
    expect(stdout).to.equal('GET /things #1: 200 {"things":2}\nGET /things #2: 200 {"things":2}\n');
  });

  it('private-key-jwt.ts prints one clear line and exits 1 when the key has no kid', async () => {
    const { kid: _kid, ...noKid } = privateJwk;
    const { code, stderr } = await runExample('private-key-jwt.ts', {
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: `${origin}/tenant/oauth2/v2.0/token`,
      AZURE_APP_CLIENT_ID: CLIENT_ID,
      AZURE_APP_JWK: JSON.stringify(noKid),
      API_URL: origin,
      SCOPE,
    });
    expect(code).to.equal(1);
    expect(stderr).to.match(/^token error \[configuration\]: clientCredentials\(\): option privateJwk has no kid/);
    expect(stderr).to.not.include(privateJwk.d!.slice(0, 16));
    expect(tokenRequests).to.have.length(0);
  });

  it('maskinporten.ts asks Texas for the scope list and resource, once, and calls the API twice', async () => {
    const { code, stdout, stderr } = await runExample('maskinporten.ts', {
      NAIS_TOKEN_ENDPOINT: `${origin}/api/v1/token`,
      MASKINPORTEN_SCOPES: 'nav:test/api skatteetaten:mva',
      MASKINPORTEN_RESOURCE: 'https://api.example.no/',
      API_URL: origin,
    });
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(tokenRequests).to.deep.equal([{ identity_provider: 'maskinporten', target: 'nav:test/api skatteetaten:mva', resource: 'https://api.example.no/' }]);
    expect(apiCalls).to.deep.equal(['Bearer maskinporten-token', 'Bearer maskinporten-token']);
    expect(stdout).to.equal('GET /things #1: 200 {"things":2}\nGET /things #2: 200 {"things":2}\n');
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
