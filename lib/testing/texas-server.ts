/**
 * A Texas-faithful server on loopback (token, exchange, introspection) with an Entra ID token
 * endpoint, for tests and a first run without NAIS or Entra ID.
 * @module axios-m2m/testing
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import type { EntraClientCredentials } from './entra-assertion.js';
import { TOKEN_EXCHANGE_AUDIENCE } from './entra-assertion.js';
import { entraToken } from './entra-endpoint.js';
import { EntraError } from './entra-error.js';
import { createTexasCache } from './texas-cache.js';
import { exchangeEndpoint } from './texas-exchange.js';
import { introspectEndpoint } from './texas-introspect.js';
import { SIGNING_PROVIDERS, canonical, createTexasKeys } from './texas-keys.js';
import { APP_NAME, DESERIALIZE, PROVIDERS, TexasError, parse, type Entry, type TexasContext } from './texas-request.js';
import { tokenEndpoint } from './texas-token.js';

// A Texas-faithful token sidecar for tests, demos and users' own integration tests, built only on
// node:http and jose. It follows docs/protocols/texas.md, which describes what
// Texas's code really does where its OpenAPI file is silent: the content-type rule, the exact
// two-field error bodies, Texas's own cache (120 s leeway, REMAINING expires_in, skip_cache, one
// upstream call per key), the on-behalf-of exchange and introspection.
//
// This file is the server: its options and public types, the HTTP routing, the upstream (latency
// and queued failures), and minting for tests. Each endpoint has its own module: texas-token.ts,
// texas-exchange.ts, texas-introspect.ts (Texas), entra-endpoint.ts (Entra ID); what they share is
// in texas-request.ts (bodies, required fields, errors), texas-cache.ts (Texas's cache) and
// texas-keys.ts (a key and issuer per identity provider).
//
// Tokens are ES256 JWTs, each identity provider with its own key (kid = the provider's name) and
// issuer (`<url>/<provider>`; azuread is entra_id). aud = the request's `target` without a trailing
// "/.default" (so `api://c.ns.app/.default` gives the audience `api://c.ns.app`; an Entra target
// in the `c:ns:app` form gives the same; a TokenX target or a Maskinporten list is used as is);
// sub = the user's `sub` for an exchange, else "app"; azp "app"; iat, exp and a fresh jti.
//
// Entra ID's strictness on scopes: an Entra target that is neither `…/.default` nor
// `<cluster>:<namespace>:<app>` is refused with 400 invalid_scope and Entra's AADSTS text, passed
// through as Texas does (docs/protocols/texas.md, "Answers"), so users' tests catch the most common mistake.

export type { EntraClientCredentials, FederatedCredential } from './entra-assertion.js';

/** A client registered with the Entra ID endpoint; `clientId` defaults to a new UUID. */
export interface EntraClientRegistration extends EntraClientCredentials {
  /** The client's id (`client_id`, the assertion's `iss` and `sub`). @default a new UUID */
  clientId?: string | undefined;
}

/** Options of {@link TexasServer.mintServiceAccountToken}. */
export interface ServiceAccountTokenOptions {
  /** The token's subject (`sub`). @default `system:serviceaccount:<namespace>:<app>` of the server's `app` */
  subject?: string | undefined;
  /** The token's audience (`aud`). @default 'api://AzureADTokenExchange' (AKS); NAIS's tokens have `nais` */
  audience?: string | undefined;
  /** Milliseconds from now until `exp` (negative: already expired), rounded to whole seconds in the token. @default 3_600_000 */
  expiresIn?: number | undefined;
}

/** The identity providers whose tokens the server signs and introspects (`azuread` is `entra_id`). */
export type TexasServerProvider = 'entra_id' | 'tokenx' | 'idporten' | 'maskinporten';

/** Options of {@link startTexasServer}. */
export interface TexasServerOptions {
  /**
   * Lifetime of minted tokens, in milliseconds, as every duration in the package; Texas answers it
   * as `expires_in` in whole seconds. @default 3_599_000 (what Texas gives for Entra ID)
   */
  lifetime?: number | undefined;
  /**
   * Lifetime of minted tokens, in seconds.
   * @deprecated Use `lifetime`, in milliseconds.
   */
  tokenLifetime?: number | undefined;
  /** The clock, in epoch ms, so that a test can move Texas's cache through time. @default Date.now */
  now?: (() => number) | undefined;
  /** Simulated latency of the identity provider, in milliseconds (makes coalescing observable). @default 0 */
  upstreamDelay?: number | undefined;
  /**
   * Simulated latency of the identity provider, in milliseconds.
   * @deprecated Use `upstreamDelay` (the same, without the unit in its name).
   */
  upstreamDelayMs?: number | undefined;
  /**
   * Identity providers enabled for the app; others get "identity provider '<p>' is not enabled".
   * `entra_id` also enables `azuread`. @default all of entra_id, maskinporten, tokenx, idporten
   */
  enabled?: readonly string[] | undefined;
  /**
   * The app this sidecar belongs to, `<cluster>:<namespace>:<app>`: introspection accepts only
   * tokens for it (`aud` `api://<cluster>.<namespace>.<app>` for Entra ID, `<cluster>:<namespace>:<app>`
   * for TokenX and ID-porten), and {@link TexasServer.mintUserToken} mints for it by default.
   * @default 'dev-gcp:team:app'
   */
  app?: string | undefined;
  /** The tenant of the Entra ID endpoint (`/<tenantId>/oauth2/v2.0/token`). @default a fixed GUID */
  tenantId?: string | undefined;
  /** More clients registered with the Entra ID endpoint (besides {@link TexasServer.entraClient}). */
  entraClients?: EntraClientRegistration[] | undefined;
}

/** Options of {@link TexasServer.mintUserToken}. */
export interface MintUserTokenOptions {
  /** Whose token it is: signed with that provider's key, with its issuer. @default 'entra_id' */
  identityProvider?: TexasServerProvider | 'azuread' | undefined;
  /** The token's `aud`. @default this app's audience for the provider ({@link TexasServer.audiences}) */
  audience?: string | undefined;
  /** Milliseconds from now until `exp` (negative: already expired), in whole seconds in the token. @default 3_600_000 */
  expiresIn?: number | undefined;
  /** Milliseconds from now until `nbf` (positive: not valid yet), in whole seconds in the token. @default no nbf */
  notBefore?: number | undefined;
  /**
   * Seconds from now until `exp`.
   * @deprecated Use `expiresIn`, in milliseconds.
   */
  expiresInSeconds?: number | undefined;
  /**
   * Seconds from now until `nbf`.
   * @deprecated Use `notBefore`, in milliseconds.
   */
  notBeforeInSeconds?: number | undefined;
  /** More claims, or other values for the defaults (`azp`, `iss`, ...). */
  claims?: Record<string, unknown> | undefined;
}

/** One request as the server saw it, in arrival order. */
export interface TexasServerRequest {
  /** The request's path, e.g. `/api/v1/token/exchange`. */
  path: string;
  /** The parsed body (form fields included, `skip_cache` as a boolean); `{}` if it did not parse. */
  body: Record<string, unknown>;
  /** The request's `Content-Type`, as sent. */
  contentType?: string;
  /** The status the server answered with. */
  status: number;
}

/** A running Texas-faithful server. */
export interface TexasServer {
  /** The server's origin, `http://127.0.0.1:<port>`. */
  url: string;
  /** `POST /api/v1/token`, for `NAIS_TOKEN_ENDPOINT`. */
  tokenEndpoint: string;
  /** `POST /api/v1/token/exchange`, for `NAIS_TOKEN_EXCHANGE_ENDPOINT`. */
  exchangeEndpoint: string;
  /** `POST /api/v1/introspect`, for `NAIS_TOKEN_INTROSPECTION_ENDPOINT`. */
  introspectionEndpoint: string;
  /**
   * Entra ID's client credentials endpoint, `<url>/<tenantId>/oauth2/v2.0/token`: client secrets,
   * client assertions (private_key_jwt, certificates by `x5t#S256` or `x5c`) and federated tokens,
   * refused with Entra's error bodies and AADSTS codes.
   */
  entraTokenEndpoint: string;
  /** The tenant of {@link TexasServer.entraTokenEndpoint}; `url` is its authority host. */
  readonly tenantId: string;
  /**
   * The client registered by default: a secret, and federated credentials for this server's
   * service-account tokens ({@link TexasServer.mintServiceAccountToken}) with the audiences
   * `api://AzureADTokenExchange` (AKS) and `nais` (NAIS).
   */
  readonly entraClient: {
    /** The client's id, `AZURE_APP_CLIENT_ID`. */
    readonly clientId: string;
    /** The client's secret, `AZURE_APP_CLIENT_SECRET`. */
    readonly clientSecret: string;
  };
  /**
   * The variables NAIS gives an app with that client (`AZURE_OPENID_CONFIG_TOKEN_ENDPOINT`,
   * `AZURE_APP_CLIENT_ID`, `AZURE_APP_CLIENT_SECRET`, `AZURE_APP_TENANT_ID`), so that
   * `fromEnv(server.clientCredentialsEnv)` gets tokens from this server.
   */
  readonly clientCredentialsEnv: Readonly<Record<string, string>>;
  /** Registers a client with the Entra ID endpoint (or replaces one by `clientId`) and returns its id. */
  registerEntraClient(client: EntraClientRegistration): string;
  /** The issuer of {@link TexasServer.mintServiceAccountToken}'s tokens (`<url>/kubernetes`). */
  readonly serviceAccountIssuer: string;
  /** A Kubernetes-style service-account token, as a workload's token file holds it, for workload identity federation. */
  mintServiceAccountToken(opts?: ServiceAccountTokenOptions): Promise<string>;
  /** The public keys of {@link TexasServer.serviceAccountIssuer}, for registering a federated credential. */
  serviceAccountJwks(): {
    /** The public keys, by `kid`. */
    keys: JWK[];
  };
  /** The app this sidecar belongs to (option `app`). */
  readonly app: string;
  /** This app's own audience per provider: what introspection requires in `aud`. */
  readonly audiences: Readonly<Record<TexasServerProvider, string>>;
  /** Every request, in order. */
  readonly requests: TexasServerRequest[];
  /** Tokens minted "upstream" (cache misses and skip_cache), as opposed to HTTP requests. */
  readonly mints: number;
  /** The claims of an unexpired, unrevoked token this server signed (any provider, any audience), or null. */
  verify(token: string): Promise<Record<string, unknown> | null>;
  /** From now on `verify`, introspection and the exchange refuse this token. */
  revoke(token: string): void;
  /**
   * An end user's access token, as a login would give it: for the exchange endpoint, and for
   * calling an API that introspects (by default it is for this app, from Entra ID). Rejects with a
   * TypeError for a provider it does not sign for or a duration that is not a number.
   */
  mintUserToken(sub: string, opts?: MintUserTokenOptions): Promise<string>;
  /** A provider's public key set, `{ keys: [...] }`, for APIs that verify with jose's createLocalJWKSet. @default 'entra_id' */
  jwks(identityProvider?: TexasServerProvider | 'azuread'): {
    /** The public keys, by `kid`. */
    keys: JWK[];
  };
  /**
   * Makes the next `count` upstream mints fail as the provider's error would pass through Texas;
   * on the Entra ID endpoint, as Entra ID answers it (the AADSTS code from the description's prefix).
   */
  failNext(count: number, status: number, error: string, description: string): void;
  /** Lifetime, in milliseconds, of tokens minted from now on (answered as `expires_in` in whole seconds). */
  setLifetime(milliseconds: number): void;
  /**
   * Lifetime, in seconds, of tokens minted from now on.
   * @deprecated Use `setLifetime`, in milliseconds.
   */
  setTokenLifetime(seconds: number): void;
  /** Stops the server, ending open connections; it leaves no timer behind. */
  close(): Promise<void>;
}

/** Milliseconds as the whole seconds a token's `exp` and an answer's `expires_in` carry: one rounding for every duration. */
const toSeconds = (milliseconds: number): number => Math.round(milliseconds / 1000);

/** Each Texas endpoint by its path. */
const TEXAS_ENDPOINTS: Record<string, (context: TexasContext, body: Record<string, unknown>) => Promise<unknown>> = {
  '/api/v1/token': tokenEndpoint,
  '/api/v1/token/exchange': exchangeEndpoint,
  '/api/v1/introspect': introspectEndpoint,
};

/** Starts the server on 127.0.0.1, on a free port. */
export async function startTexasServer(options: TexasServerOptions = {}): Promise<TexasServer> {
  const now = options.now ?? Date.now;
  const enabled = new Set((options.enabled ?? PROVIDERS).flatMap((p) => (p === 'entra_id' ? [p, 'azuread'] : [p])));
  const app = options.app ?? 'dev-gcp:team:app';
  const appParts = APP_NAME.exec(app);
  if (!appParts) throw new TypeError(`startTexasServer: expected app to be <cluster>:<namespace>:<app>, got ${JSON.stringify(app)}`);
  const audiences: Record<TexasServerProvider, string> = {
    entra_id: `api://${appParts[1]}.${appParts[2]}.${appParts[3]}`,
    tokenx: app,
    idporten: app,
    maskinporten: app,
  };
  // In whole seconds: what the answers' expires_in and the tokens' exp carry.
  let lifetime = options.lifetime !== undefined ? toSeconds(options.lifetime) : (options.tokenLifetime ?? 3599);
  const latency = options.upstreamDelay ?? options.upstreamDelayMs;
  let url = '';
  const nowSeconds = () => Math.floor(now() / 1000);
  const keys = await createTexasKeys(() => url, nowSeconds);
  const serviceAccount = await generateKeyPair('ES256');
  const serviceAccountJwk: JWK = { ...(await exportJWK(serviceAccount.publicKey)), kid: 'kubernetes', alg: 'ES256', use: 'sig' };
  const tenantId = options.tenantId ?? 'a1b2c3d4-0000-4000-8000-00000000e1d1';
  const entraClients = new Map<string, EntraClientCredentials>();
  const seenJti = new Set<string>();
  const requests: TexasServerRequest[] = [];
  const revoked = new Set<string>();
  const failures: { status: number; error: string; description: string }[] = [];
  let mints = 0;
  const sign = keys.sign;

  async function verify(token: string): Promise<Record<string, unknown> | null> {
    if (revoked.has(token)) return null;
    const result = await keys.signed(token);
    if (result === null) return null;
    const { provider, payload } = result;
    const exp = payload.exp;
    if (payload.iss !== keys.issuerOf(provider) || typeof exp !== 'number' || exp <= now() / 1000) return null;
    return payload;
  }

  // Every pending delay, so that close() can end them: a timer left behind would hold the
  // process (and a test runner) for the rest of the delay after the server is gone.
  const delays = new Map<NodeJS.Timeout, (error: Error) => void>();
  const upstreamDelay = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        delays.delete(timer);
        resolve();
      }, ms);
      delays.set(timer, reject);
    });

  async function mint(provider: string, claims: JWTPayload): Promise<Entry> {
    if (latency) await upstreamDelay(latency);
    const failure = failures.shift();
    if (failure) throw new TexasError(failure.status, failure.error, failure.description);
    mints += 1;
    const mintedAt = now();
    return { token: await sign(provider, claims, lifetime), mintedAt, lifetime };
  }

  const texasContext: TexasContext = { now, nowSeconds, keys, enabled, app, audiences, revoked, cached: createTexasCache(now, mint) };

  async function handle(path: string, body: Record<string, unknown>): Promise<unknown> {
    const endpoint = Object.hasOwn(TEXAS_ENDPOINTS, path) ? TEXAS_ENDPOINTS[path] : undefined;
    if (endpoint === undefined) throw new TexasError(404, 'invalid_request', `no such endpoint: ${path}`);
    return endpoint(texasContext, body);
  }

  const entraContext = {
    tenantId,
    tokenEndpoint: () => `${url}/${tenantId}/oauth2/v2.0/token`,
    nowSeconds,
    lifetime: () => lifetime,
    clients: entraClients,
    sign: (claims: JWTPayload, seconds: number) => sign('entra_id', claims, seconds),
    async beforeMint() {
      if (latency) await upstreamDelay(latency);
      const failure = failures.shift();
      if (failure) {
        const aadsts = /^AADSTS(\d+): ([\s\S]*)$/.exec(failure.description);
        throw new EntraError(failure.status, failure.error, Number(aadsts?.[1] ?? 0), aadsts?.[2] ?? failure.description);
      }
      mints += 1;
    },
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const contentType = req.headers['content-type'];
      const record: TexasServerRequest = { path: (req.url ?? '').split('?')[0]!, body: {}, status: 200, ...(contentType !== undefined && { contentType }) };
      requests.push(record);
      const send = (status: number, body: unknown) => {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(body));
      };
      const entra = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(record.path);
      if (entra) {
        const text = Buffer.concat(chunks).toString('utf8');
        if (contentType?.startsWith('application/x-www-form-urlencoded')) record.body = Object.fromEntries(new URLSearchParams(text));
        const failEntra = (error: unknown) => {
          const e = error instanceof EntraError ? error : new EntraError(500, 'server_error', 500, `Unexpected failure: ${(error as Error).message}`);
          send(e.status, e.body());
        };
        if (req.method !== 'POST') return failEntra(new EntraError(400, 'invalid_request', 900561, 'The endpoint only accepts POST requests.'));
        entraToken(entraContext, entra[1]!, contentType ?? '', text, seenJti).then((body) => send(200, body), failEntra);
        return;
      }
      const fail = (error: unknown) => {
        const e = error instanceof TexasError ? error : new TexasError(500, 'server_error', `Upstream request failed: ${(error as Error).message}`);
        // Error bodies are exactly {error, error_description} (docs/protocols/texas.md, "Answers").
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
  const serviceAccountIssuer = `${url}/kubernetes`;
  const serviceAccountSubject = `system:serviceaccount:${appParts[2]}:${appParts[3]}`;

  function registerEntraClient(registration: EntraClientRegistration): string {
    const { clientId = randomUUID(), ...credentials } = registration;
    entraClients.set(clientId, credentials);
    return clientId;
  }
  const entraClient = { clientId: randomUUID(), clientSecret: `secret-${randomUUID()}` };
  registerEntraClient({
    ...entraClient,
    federated: [TOKEN_EXCHANGE_AUDIENCE, 'nais'].map((audience) => ({
      issuer: serviceAccountIssuer,
      subject: serviceAccountSubject,
      audience,
      jwks: { keys: [serviceAccountJwk] },
    })),
  });
  for (const registration of options.entraClients ?? []) registerEntraClient(registration);
  const entraTokenEndpoint = entraContext.tokenEndpoint();

  // Async, so that every failure (jose refuses a subject that is not a string, a time that is not a
  // number) is a rejection that the caller's .catch() sees, never a throw before the promise.
  async function mintServiceAccountToken(opts: ServiceAccountTokenOptions = {}): Promise<string> {
    const issuedAt = nowSeconds();
    return new SignJWT({ kubernetes: { namespace: appParts![2], serviceaccount: { name: appParts![3] } } })
      .setProtectedHeader({ alg: 'ES256', kid: 'kubernetes', typ: 'JWT' })
      .setIssuer(serviceAccountIssuer)
      .setSubject(opts.subject ?? serviceAccountSubject)
      .setAudience(opts.audience ?? TOKEN_EXCHANGE_AUDIENCE)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + toSeconds(opts.expiresIn ?? 3_600_000))
      .setJti(randomUUID())
      .sign(serviceAccount.privateKey);
  }

  async function mintUserToken(sub: string, opts: MintUserTokenOptions = {}): Promise<string> {
    const provider = canonical(opts.identityProvider ?? 'entra_id') as TexasServerProvider;
    if (!SIGNING_PROVIDERS.includes(provider)) {
      throw new TypeError(`mintUserToken: expected identityProvider to be one of ${SIGNING_PROVIDERS.join(', ')}, got ${JSON.stringify(opts.identityProvider)}`);
    }
    const claims: JWTPayload = { sub, aud: opts.audience ?? audiences[provider], azp: 'login', azp_name: 'dev-gcp:team:login' };
    const notBefore = opts.notBefore !== undefined ? toSeconds(opts.notBefore) : opts.notBeforeInSeconds;
    if (notBefore !== undefined) claims.nbf = nowSeconds() + notBefore;
    const expiresIn = opts.expiresIn !== undefined ? toSeconds(opts.expiresIn) : (opts.expiresInSeconds ?? 3600);
    return sign(provider, { ...claims, ...opts.claims }, expiresIn);
  }

  return {
    url,
    tokenEndpoint: `${url}/api/v1/token`,
    exchangeEndpoint: `${url}/api/v1/token/exchange`,
    introspectionEndpoint: `${url}/api/v1/introspect`,
    entraTokenEndpoint,
    tenantId,
    entraClient,
    clientCredentialsEnv: {
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT: entraTokenEndpoint,
      AZURE_APP_CLIENT_ID: entraClient.clientId,
      AZURE_APP_CLIENT_SECRET: entraClient.clientSecret,
      AZURE_APP_TENANT_ID: tenantId,
    },
    registerEntraClient,
    serviceAccountIssuer,
    mintServiceAccountToken,
    serviceAccountJwks: () => ({ keys: [{ ...serviceAccountJwk }] }),
    app,
    audiences,
    requests,
    get mints() {
      return mints;
    },
    verify,
    revoke: (token) => void revoked.add(token),
    mintUserToken,
    jwks: (provider = 'entra_id') => ({ keys: [{ ...keys.get(canonical(provider))!.publicJwk }] }),
    failNext(count, status, error, description) {
      for (let i = 0; i < count; i++) failures.push({ status, error, description });
    },
    setLifetime: (milliseconds) => void (lifetime = toSeconds(milliseconds)),
    setTokenLifetime: (seconds) => void (lifetime = seconds),
    close: () =>
      new Promise<void>((resolve) => {
        for (const [timer, reject] of delays) {
          clearTimeout(timer);
          reject(new Error('the server was closed'));
        }
        delays.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
