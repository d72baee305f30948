import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet, type JWTPayload } from 'jose';

// A Texas-faithful token sidecar for tests, demos and your own integration tests, written from
// Texas's documented behaviour (see README, "Testing"): the same content-type rules, the same
// two-field error bodies, its own cache with the 120 s leeway and a shrinking `expires_in`,
// `skip_cache`, and concurrent requests for one key sharing one upstream mint. Tokens are JWTs
// signed by the server's own key; `verify` checks them as an API would.

/** Options of {@link startTexas}. */
export interface TexasTestOptions {
  /** Lifetime of minted tokens, in seconds. @default 3599 */
  tokenLifetime?: number;
  /** The clock, in epoch ms, so that fake timers can drive Texas's cache. @default Date.now */
  now?: () => number;
  /** Identity providers enabled for the app. @default ['entra_id', 'maskinporten', 'tokenx'] */
  enabled?: readonly string[];
  /** Simulated latency of the identity provider, in ms (makes coalescing observable). @default 0 */
  upstreamDelay?: number;
}

/** One request as Texas saw it. */
export interface TexasRequest {
  path: string;
  contentType: string | undefined;
  body: Record<string, unknown>;
  status: number;
}

/** A running Texas-faithful server. */
export interface TexasTestServer {
  url: string;
  tokenEndpoint: string;
  exchangeEndpoint: string;
  introspectionEndpoint: string;
  /** Every request, in order. */
  readonly requests: TexasRequest[];
  /** Tokens minted "upstream" (cache misses and skip_cache), as opposed to HTTP requests. */
  readonly mints: number;
  /** The claims of a token this server minted and did not revoke, or null. */
  verify(token: string): Promise<JWTPayload | null>;
  /** From now on `verify` refuses this token (as an API does after its access policy changed). */
  revoke(token: string): void;
  /** A user's token, as a login would give it, for the exchange endpoint. */
  userToken(sub: string, expiresInSeconds?: number): Promise<string>;
  /** Makes the next `count` token requests fail as the provider's error would pass through. */
  failNext(count: number, status: number, error: string, description: string): void;
  /** Lifetime of tokens minted from now on, in seconds. */
  setTokenLifetime(seconds: number): void;
  close(): Promise<void>;
}

const PROVIDERS = ['entra_id', 'azuread', 'maskinporten', 'tokenx', 'idporten'];
const TOKEN_PROVIDERS = ['entra_id', 'azuread', 'maskinporten'];
const EXCHANGE_PROVIDERS = ['entra_id', 'azuread', 'tokenx'];

class TexasError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

/** Starts the server on 127.0.0.1, on a free port. */
export async function startTexas(options: TexasTestOptions = {}): Promise<TexasTestServer> {
  const now = options.now ?? Date.now;
  const enabled = new Set((options.enabled ?? ['entra_id', 'maskinporten', 'tokenx']).flatMap((p) => (p === 'entra_id' ? [p, 'azuread'] : [p])));
  let lifetime = options.tokenLifetime ?? 3599;
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'texas-test', alg: 'ES256' }] });
  const requests: TexasRequest[] = [];
  const revoked = new Set<string>();
  const cache = new Map<string, { token: string; mintedAt: number; lifetime: number }>();
  const inFlight = new Map<string, Promise<{ token: string; mintedAt: number; lifetime: number }>>();
  const failures: { status: number; error: string; description: string }[] = [];
  let mints = 0;
  let url = '';

  const sign = (claims: JWTPayload, seconds: number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'texas-test', typ: 'JWT' })
      .setIssuer(url)
      .setIssuedAt(Math.floor(now() / 1000))
      .setExpirationTime(Math.floor(now() / 1000) + seconds)
      .setJti(randomUUID())
      .sign(privateKey);

  async function verify(token: string): Promise<JWTPayload | null> {
    if (revoked.has(token)) return null;
    try {
      return (await jwtVerify(token, jwks, { issuer: url, currentDate: new Date(now()) })).payload;
    } catch {
      return null;
    }
  }

  async function mint(claims: JWTPayload) {
    if (options.upstreamDelay) await new Promise((resolve) => setTimeout(resolve, options.upstreamDelay));
    const failure = failures.shift();
    if (failure) throw new TexasError(failure.status, failure.error, failure.description);
    mints += 1;
    const mintedAt = now();
    return { token: await sign(claims, lifetime), mintedAt, lifetime };
  }

  /** Texas's cache: concurrent requests share a mint; an entry lives lifetime - 120 s, or half a short lifetime. */
  async function cached(key: string, skip: boolean, claims: () => Promise<JWTPayload>) {
    if (skip) cache.delete(key);
    const hit = cache.get(key);
    const entryLife = (e: { lifetime: number }) => (e.lifetime > 120 ? e.lifetime - 120 : e.lifetime / 2) * 1000;
    if (hit && now() < hit.mintedAt + entryLife(hit)) return hit;
    let pending = inFlight.get(key);
    if (!pending) {
      pending = claims().then(mint);
      inFlight.set(key, pending);
      pending.then((entry) => cache.set(key, entry), () => {}).finally(() => inFlight.delete(key));
    }
    return pending;
  }

  function parse(req: IncomingMessage, text: string): Record<string, unknown> {
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('application/json')) {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('expected an object');
      return value as Record<string, unknown>;
    }
    if (type.startsWith('application/x-www-form-urlencoded')) {
      const form: Record<string, unknown> = Object.fromEntries(new URLSearchParams(text));
      if (form.skip_cache !== undefined) form.skip_cache = form.skip_cache === 'true';
      if (typeof form.authorization_details === 'string') form.authorization_details = JSON.parse(form.authorization_details);
      return form;
    }
    throw new TexasError(400, 'invalid_request', `unsupported media type: ${type || 'none'}`);
  }

  function fields(body: Record<string, unknown>, allowed: string[], what: string, extra: string[] = []) {
    const provider = body.identity_provider;
    for (const name of ['identity_provider', 'target', ...extra]) {
      if (typeof body[name] !== 'string') throw new TexasError(400, 'invalid_request', `Failed to deserialize the JSON body into the target type: missing field \`${name}\``);
    }
    if (!PROVIDERS.includes(provider as string)) {
      throw new TexasError(400, 'invalid_request', `Failed to deserialize the JSON body into the target type: identity_provider: unknown variant \`${String(provider)}\``);
    }
    if (!enabled.has(provider as string)) throw new TexasError(400, 'invalid_request', `identity provider '${String(provider)}' is not enabled`);
    if (!allowed.includes(provider as string)) throw new TexasError(400, 'invalid_request', `identity provider '${String(provider)}' does not support ${what}`);
    // azuread is the older name of entra_id: they share cache entries.
    return { provider: provider === 'azuread' ? 'entra_id' : (provider as string), target: body.target as string };
  }

  async function handle(req: IncomingMessage, text: string): Promise<unknown> {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST') throw new TexasError(405, 'invalid_request', 'method not allowed');
    let body: Record<string, unknown>;
    try {
      body = parse(req, text);
    } catch (error) {
      if (error instanceof TexasError) throw error;
      throw new TexasError(400, 'invalid_request', `Failed to deserialize the JSON body into the target type: ${(error as Error).message}`);
    }
    requests.at(-1)!.body = body;
    const skip = body.skip_cache === true;
    if (path === '/api/v1/token') {
      const { provider, target } = fields(body, TOKEN_PROVIDERS, 'token requests');
      const key = JSON.stringify([target, provider, body.resource ?? null, body.authorization_details ?? null]);
      const aud = target.replace(/\/\.default$/, '');
      return answer(await cached(key, skip, async () => ({ aud, azp: 'app', sub: 'app', idp: provider })));
    }
    if (path === '/api/v1/token/exchange') {
      const { provider, target } = fields(body, EXCHANGE_PROVIDERS, 'token exchange', ['user_token']);
      const userToken = body.user_token as string;
      const key = JSON.stringify([target, provider, userToken]);
      const aud = target.replace(/\/\.default$/, '');
      return answer(
        await cached(key, skip, async () => {
          const user = await verify(userToken);
          if (user === null) {
            throw new TexasError(400, 'invalid_grant', 'AADSTS50013: Assertion failed signature validation or has expired.');
          }
          return { aud, azp: 'app', sub: user.sub, idp: provider };
        }),
      );
    }
    if (path === '/api/v1/introspect') {
      if (typeof body.token !== 'string') throw new TexasError(400, 'invalid_request', 'Failed to deserialize the JSON body into the target type: missing field `token`');
      const claims = await verify(body.token);
      return claims ? { active: true, ...claims } : { active: false, error: 'invalid token: ExpiredSignature or revoked' };
    }
    throw new TexasError(404, 'invalid_request', 'not found');
  }

  /** Texas answers from its cache with the REMAINING lifetime. */
  function answer(entry: { token: string; mintedAt: number; lifetime: number }) {
    return { access_token: entry.token, expires_in: Math.floor(entry.lifetime - (now() - entry.mintedAt) / 1000), token_type: 'Bearer' };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const record: TexasRequest = { path: (req.url ?? '').split('?')[0]!, contentType: req.headers['content-type'], body: {}, status: 200 };
      requests.push(record);
      handle(req, text).then(
        (result) => send(res, record, 200, result),
        (error: unknown) => {
          const e = error instanceof TexasError ? error : new TexasError(500, 'server_error', `Upstream request failed: ${(error as Error).message}`);
          send(res, record, e.status, { error: e.error, error_description: e.description });
        },
      );
    });
  });
  function send(res: ServerResponse, record: TexasRequest, status: number, body: unknown): void {
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    tokenEndpoint: `${url}/api/v1/token`,
    exchangeEndpoint: `${url}/api/v1/token/exchange`,
    introspectionEndpoint: `${url}/api/v1/introspect`,
    requests,
    get mints() {
      return mints;
    },
    verify,
    revoke: (token) => void revoked.add(token),
    userToken: (sub, expiresInSeconds = 3600) => sign({ sub, aud: 'login', idp: 'user' }, expiresInSeconds),
    setTokenLifetime: (seconds) => void (lifetime = seconds),
    failNext(count, status, error, description) {
      for (let i = 0; i < count; i++) failures.push({ status, error, description });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
