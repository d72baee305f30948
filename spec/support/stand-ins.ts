import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWTPayload } from 'jose';

// Loopback stand-ins for the on-behalf-of specs, until lib/testing/texas-server.ts and
// spec/support/protected-api.ts are in git: a Texas exchange endpoint that behaves as
// texas/API.md describes (verifies the user token, does not strip `Bearer `, passes the
// provider's error through, own cache keyed by user token, skip_cache), an issuer of user tokens,
// and an API that verifies exchanged tokens and records the subject it saw for each request.

export interface Exchange {
  identity_provider: string;
  target: string;
  user_token: string;
  skip_cache?: boolean;
}

export interface StandIns {
  texasExchangeEndpoint: string;
  apiUrl: string;
  /** A user's access token, signed by the stand-in identity provider. */
  mintUserToken(sub: string, options?: { expiresInSeconds?: number }): Promise<string>;
  /** Every exchange request Texas received, in order. */
  exchanges: Exchange[];
  /** Per API request: the `x-request-id` it carried and the verified token's subject and audience. */
  apiSeen: { requestId: string | undefined; sub: string; aud: string; jti: string }[];
  /** Tokens (by jti) the API refuses with 401 once, to drive the retry. */
  refuseOnce: Set<string>;
  /** Subjects whose first exchanged token the API refuses with 401. */
  refuseFirstTokenOf: Set<string>;
  close(): Promise<void>;
}

const ISSUER = 'https://login.stand-in/tenant/v2.0';
const CLIENT_AUDIENCE = 'this-app';

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startStandIns(): Promise<StandIns> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256' }] });
  const exchanges: Exchange[] = [];
  const apiSeen: StandIns['apiSeen'] = [];
  const refuseOnce = new Set<string>();
  const refuseFirstTokenOf = new Set<string>();
  const texasCache = new Map<string, { token: string; expiresAt: number }>();
  const firstTokenSeen = new Set<string>();

  const sign = (claims: JWTPayload, audience: string, expiresInSeconds: number) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setAudience(audience)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSeconds)
      .sign(privateKey);

  const texas = createServer(async (req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/api/v1/token/exchange') return json(404, { error: 'invalid_request', error_description: 'not found' });
    if (!String(req.headers['content-type']).startsWith('application/json')) {
      return json(400, { error: 'invalid_request', error_description: 'unsupported media type: expected application/json' });
    }
    const body = JSON.parse(await read(req)) as Exchange;
    exchanges.push(body);
    if (!['entra_id', 'azuread', 'tokenx'].includes(body.identity_provider) || !body.target || !body.user_token) {
      return json(400, { error: 'invalid_request', error_description: 'Failed to deserialize the JSON body' });
    }
    const provider = body.identity_provider === 'azuread' ? 'entra_id' : body.identity_provider;
    const key = `${body.target}\0${provider}\0${body.user_token}`;
    if (body.skip_cache) texasCache.delete(key);
    const cached = texasCache.get(key);
    if (cached && cached.expiresAt - Date.now() > 120_000) {
      return json(200, { access_token: cached.token, expires_in: Math.floor((cached.expiresAt - Date.now()) / 1000), token_type: 'Bearer' });
    }
    let user: JWTPayload;
    try {
      // Texas hands the token to the provider as is: a `Bearer ` prefix makes it invalid.
      ({ payload: user } = await jwtVerify(body.user_token, jwks, { issuer: ISSUER, audience: CLIENT_AUDIENCE }));
    } catch (error) {
      const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
      // The provider's error, passed through by Texas with the provider's status.
      return json(400, {
        error: 'invalid_grant',
        error_description: expired
          ? 'AADSTS500133: Assertion is not within its valid time range.'
          : 'AADSTS50013: Assertion failed signature validation.',
      });
    }
    await delay(Math.random() * 5); // an identity provider takes a moment: lets requests interleave
    const token = await sign({ sub: user.sub, scp: 'user_impersonation' }, body.target, 3600);
    texasCache.set(key, { token, expiresAt: Date.now() + 3_600_000 });
    json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
  });

  const api = createServer(async (req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
      res.end(JSON.stringify(body));
    };
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) return json(401, { error: 'no token' });
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(auth.slice(7), jwks, { issuer: ISSUER }));
    } catch {
      return json(401, { error: 'invalid token' });
    }
    const sub = String(claims.sub);
    const jti = String(claims.jti);
    if (refuseOnce.delete(jti) || (refuseFirstTokenOf.has(sub) && !firstTokenSeen.has(sub) && firstTokenSeen.add(sub))) {
      return json(401, { error: 'token refused' });
    }
    await delay(Math.random() * 5);
    const requestId = req.headers['x-request-id'] as string | undefined;
    apiSeen.push({ requestId, sub, aud: String(claims.aud), jti });
    json(200, { sub, aud: claims.aud, requestId });
  });

  const texasOrigin = await listen(texas);
  const apiUrl = await listen(api);
  return {
    texasExchangeEndpoint: `${texasOrigin}/api/v1/token/exchange`,
    apiUrl,
    mintUserToken: (sub, { expiresInSeconds = 3600 } = {}) => sign({ sub, name: `User ${sub}` }, CLIENT_AUDIENCE, expiresInSeconds),
    exchanges,
    apiSeen,
    refuseOnce,
    refuseFirstTokenOf,
    async close() {
      texas.closeAllConnections();
      api.closeAllConnections();
      await Promise.all([new Promise((r) => texas.close(r)), new Promise((r) => api.close(r))]);
    },
  };
}
