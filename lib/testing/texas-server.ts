import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK, type JWTPayload } from 'jose';

// A Texas-faithful token sidecar for tests, demos and users' own integration tests, built only on
// node:http and jose. It follows the project's notes on Texas (texas/API.md), which describe what
// Texas's code really does where its OpenAPI file is silent: the content-type rule, the exact
// two-field error bodies, Texas's own cache (120 s leeway, REMAINING expires_in, skip_cache, one
// upstream call per key), the on-behalf-of exchange and introspection.
//
// Tokens are ES256 JWTs signed with a key generated at start: iss = the server's url; aud = the
// request's `target` without a trailing "/.default" (so `api://c.ns.app/.default` gives the
// audience `api://c.ns.app`, as Entra ID does for a v2 scope; a Maskinporten target, being
// space-separated scopes, is used as is); sub = the user's `sub` for an exchange, else "app";
// azp "app"; iat, exp and a fresh jti.

/** Options of {@link startTexasServer}. */
export interface TexasServerOptions {
  /** Lifetime of minted tokens, in seconds. @default 3599 (what Texas gives for Entra ID) */
  tokenLifetime?: number;
  /** The clock, in epoch ms, so that a test can move Texas's cache through time. @default Date.now */
  now?: () => number;
  /** Simulated latency of the identity provider, in ms (makes coalescing observable). @default 0 */
  upstreamDelayMs?: number;
  /**
   * Identity providers enabled for the app; others get "identity provider '<p>' is not enabled".
   * `entra_id` also enables `azuread`. @default all of entra_id, maskinporten, tokenx, idporten
   */
  enabled?: readonly string[];
}

/** One request as the server saw it, in arrival order. */
export interface TexasServerRequest {
  path: string;
  /** The parsed body (form fields included, `skip_cache` as a boolean); `{}` if it did not parse. */
  body: Record<string, unknown>;
  contentType?: string;
  /** The status the server answered with. */
  status: number;
}

/** A running Texas-faithful server. */
export interface TexasServer {
  url: string;
  tokenEndpoint: string;
  exchangeEndpoint: string;
  introspectionEndpoint: string;
  /** Every request, in order. */
  readonly requests: TexasServerRequest[];
  /** Tokens minted "upstream" (cache misses and skip_cache), as opposed to HTTP requests. */
  readonly mints: number;
  /** The claims of an unexpired, unrevoked token this server signed, or null. */
  verify(token: string): Promise<Record<string, unknown> | null>;
  /** From now on `verify`, introspection and the exchange refuse this token. */
  revoke(token: string): void;
  /** An end user's access token, as a login would give it, for the exchange endpoint. */
  mintUserToken(sub: string, opts?: { expiresInSeconds?: number }): Promise<string>;
  /** The public key set, `{ keys: [...] }`, for APIs that verify with jose's createLocalJWKSet. */
  jwks(): { keys: JWK[] };
  /** Makes the next `count` upstream mints fail as the provider's error would pass through Texas. */
  failNext(count: number, status: number, error: string, description: string): void;
  /** Lifetime, in seconds, of tokens minted from now on. */
  setTokenLifetime(seconds: number): void;
  close(): Promise<void>;
}

const PROVIDERS = ['entra_id', 'azuread', 'maskinporten', 'tokenx', 'idporten'];
// API.md, "Machine token" and "On-behalf-of exchange": which provider may use which endpoint.
const TOKEN_PROVIDERS = ['entra_id', 'azuread', 'maskinporten'];
const EXCHANGE_PROVIDERS = ['entra_id', 'azuread', 'tokenx'];
const DESERIALIZE = 'Failed to deserialize the JSON body into the target type';
const KID = 'texas-test';

class TexasError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

interface Entry {
  token: string;
  mintedAt: number;
  lifetime: number;
}

/** Starts the server on 127.0.0.1, on a free port. */
export async function startTexasServer(options: TexasServerOptions = {}): Promise<TexasServer> {
  const now = options.now ?? Date.now;
  const enabled = new Set((options.enabled ?? PROVIDERS).flatMap((p) => (p === 'entra_id' ? [p, 'azuread'] : [p])));
  let lifetime = options.tokenLifetime ?? 3599;
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
  const keySet = createLocalJWKSet({ keys: [publicJwk] });
  const requests: TexasServerRequest[] = [];
  const revoked = new Set<string>();
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Entry>>();
  const failures: { status: number; error: string; description: string }[] = [];
  let mints = 0;
  let url = '';

  const sign = (claims: JWTPayload, seconds: number) => {
    const issuedAt = Math.floor(now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: KID, typ: 'JWT' })
      .setIssuer(url)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + seconds)
      .setJti(randomUUID())
      .sign(privateKey);
  };

  async function verify(token: string): Promise<Record<string, unknown> | null> {
    if (revoked.has(token)) return null;
    try {
      return (await jwtVerify(token, keySet, { issuer: url, currentDate: new Date(now()) })).payload;
    } catch {
      return null;
    }
  }

  async function mint(claims: JWTPayload): Promise<Entry> {
    if (options.upstreamDelayMs) await new Promise((resolve) => setTimeout(resolve, options.upstreamDelayMs));
    const failure = failures.shift();
    if (failure) throw new TexasError(failure.status, failure.error, failure.description);
    mints += 1;
    const mintedAt = now();
    return { token: await sign(claims, lifetime), mintedAt, lifetime };
  }

  // API.md, "Texas's own cache": an entry lives expires_in - 120 s when the lifetime is over
  // 120 s, else half of it, so a cached token always has at least 120 s (or half its life) left.
  const entryLifeMs = (entry: Entry) => (entry.lifetime > 120 ? entry.lifetime - 120 : entry.lifetime / 2) * 1000;

  // skip_cache drops the entry and mints anew (API.md); concurrent requests for one key share one
  // mint, and a failed mint leaves nothing behind because errors are never cached. A skip_cache
  // request that arrives while a mint for its key is in flight joins that (already fresh) mint.
  function cached(key: string, skip: boolean, claims: () => Promise<JWTPayload>): Promise<Entry> {
    if (skip) cache.delete(key);
    const hit = cache.get(key);
    if (hit && now() < hit.mintedAt + entryLifeMs(hit)) return Promise.resolve(hit);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = claims().then(mint);
      inFlight.set(key, pending);
      pending.then((entry) => cache.set(key, entry), () => {}).finally(() => inFlight.delete(key));
    }
    return pending;
  }

  // API.md, "Requests": the content type must start with application/json or
  // application/x-www-form-urlencoded (a charset suffix is fine); anything else, or none, is a 400.
  function parse(contentType: string, text: string): Record<string, unknown> {
    if (contentType.startsWith('application/json')) {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('expected a JSON object');
      return value as Record<string, unknown>;
    }
    if (contentType.startsWith('application/x-www-form-urlencoded')) {
      const form: Record<string, unknown> = Object.fromEntries(new URLSearchParams(text));
      if (form.skip_cache !== undefined) form.skip_cache = form.skip_cache === 'true';
      // In a form body authorization_details is a JSON string (API.md, "Machine token").
      if (typeof form.authorization_details === 'string') form.authorization_details = JSON.parse(form.authorization_details);
      return form;
    }
    throw new TexasError(400, 'invalid_request', `unsupported media type: ${contentType || 'none'}`);
  }

  /** Checks the fields API.md's tables require, in the order Texas reports them. */
  function required(body: Record<string, unknown>, allowed: string[], what: string, extra: string[] = []) {
    for (const name of ['identity_provider', 'target', ...extra]) {
      if (typeof body[name] !== 'string') throw new TexasError(400, 'invalid_request', `${DESERIALIZE}: missing field \`${name}\``);
    }
    const provider = body.identity_provider as string;
    if (!PROVIDERS.includes(provider)) {
      throw new TexasError(400, 'invalid_request', `${DESERIALIZE}: identity_provider: unknown variant \`${provider}\``);
    }
    if (!enabled.has(provider)) throw new TexasError(400, 'invalid_request', `identity provider '${provider}' is not enabled`);
    if (!allowed.includes(provider)) throw new TexasError(400, 'invalid_request', `identity provider '${provider}' does not support ${what}`);
    const target = body.target as string;
    // azuread is the older name of entra_id: they share cache entries (API.md).
    return { provider: provider === 'azuread' ? 'entra_id' : provider, target, aud: target.replace(/\/\.default$/, '') };
  }

  async function handle(path: string, body: Record<string, unknown>): Promise<unknown> {
    const skip = body.skip_cache === true || body.skip_cache === 'true';
    if (path === '/api/v1/token') {
      const { provider, target, aud } = required(body, TOKEN_PROVIDERS, 'token requests');
      const key = JSON.stringify([target, provider, body.resource ?? null, body.authorization_details ?? null]);
      return answer(await cached(key, skip, async () => ({ aud, azp: 'app', sub: 'app', idp: provider })));
    }
    if (path === '/api/v1/token/exchange') {
      const { provider, target, aud } = required(body, EXCHANGE_PROVIDERS, 'token exchange', ['user_token']);
      const userToken = body.user_token as string;
      const key = JSON.stringify([target, provider, userToken]);
      return answer(
        await cached(key, skip, async () => {
          // Texas does not strip "Bearer " (API.md), so such a token fails here as it would upstream.
          const user = await verify(userToken);
          if (user === null) {
            throw new TexasError(400, 'invalid_grant', 'AADSTS50013: Assertion failed signature validation, or has expired or been revoked.');
          }
          return { aud, azp: 'app', sub: user.sub as string, idp: provider };
        }),
      );
    }
    if (path === '/api/v1/introspect') {
      if (typeof body.identity_provider !== 'string') throw new TexasError(400, 'invalid_request', `${DESERIALIZE}: missing field \`identity_provider\``);
      if (typeof body.token !== 'string') throw new TexasError(400, 'invalid_request', `${DESERIALIZE}: missing field \`token\``);
      // Always 200 for a well-formed request (API.md, "Introspection").
      const claims = await verify(body.token);
      return claims ? { active: true, ...claims } : { active: false, error: 'invalid token: ExpiredSignature, InvalidSignature or revoked' };
    }
    throw new TexasError(404, 'invalid_request', `no such endpoint: ${path}`);
  }

  /** Success is exactly three fields, and from the cache expires_in is the REMAINING lifetime (API.md). */
  function answer(entry: Entry) {
    return { access_token: entry.token, expires_in: Math.floor(entry.lifetime - (now() - entry.mintedAt) / 1000), token_type: 'Bearer' };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const contentType = req.headers['content-type'];
      const record: TexasServerRequest = { path: (req.url ?? '').split('?')[0]!, body: {}, status: 200, ...(contentType !== undefined && { contentType }) };
      requests.push(record);
      const send = (status: number, body: unknown) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const fail = (error: unknown) => {
        const e = error instanceof TexasError ? error : new TexasError(500, 'server_error', `Upstream request failed: ${(error as Error).message}`);
        // Error bodies are exactly {error, error_description} (API.md, "Responses").
        send(e.status, { error: e.error, error_description: e.description });
      };
      if (req.method !== 'POST') return fail(new TexasError(405, 'invalid_request', `method not allowed: ${req.method}`));
      try {
        record.body = parse(contentType ?? '', Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        return fail(error instanceof TexasError ? error : new TexasError(400, 'invalid_request', `${DESERIALIZE}: ${(error as Error).message}`));
      }
      handle(record.path, record.body).then((result) => send(200, result), fail);
    });
  });
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
    mintUserToken: (sub, opts = {}) => sign({ sub, aud: 'texas-test-login', azp: 'login', idp: 'user' }, opts.expiresInSeconds ?? 3600),
    jwks: () => ({ keys: [{ ...publicJwk }] }),
    failNext(count, status, error, description) {
      for (let i = 0; i < count; i++) failures.push({ status, error, description });
    },
    setTokenLifetime: (seconds) => void (lifetime = seconds),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
