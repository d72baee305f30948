import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { TexasServer } from '../../lib/testing/texas-server.js';
import { isAuthError } from '../../lib/inbound/auth-error.js';
import type { TokenValidator } from '../../lib/inbound/introspection.js';
import { requireToken } from '../../lib/inbound/require-token.js';

// The claims an accepted request answers with, after its path. The default stays `sub`, `aud`:
// examples' printed output is asserted to the character.
const DEFAULT_ECHO = ['sub', 'aud'];

/** Which token claims the API echoes in its answers (default `sub`, `aud`). */
export interface EchoOptions {
  echoClaims?: string[] | undefined;
}

/** Checks a bearer token as an API would: its claims, or null to refuse it. */
export type VerifyToken = (token: string) => Promise<JWTPayload | null>;

/**
 * A protected API (Express 5) that lets a request through only with a token `verify` accepts, by
 * the package's own requireToken() (401 `WWW-Authenticate: Bearer` without a token, 401
 * `Bearer error="invalid_token"` for a refused one), and records every request. `revoke` makes it
 * refuse a token from then on (as after a change of its access policy): `verify` is asked on every
 * request, with no result kept, so a revocation holds at once.
 */
export async function startProtectedApi(verify: VerifyToken, { echoClaims = DEFAULT_ECHO }: EchoOptions = {}) {
  const seen: { path: string; token: string | undefined; status: number; sub?: unknown; aud?: unknown; azp?: unknown }[] = [];
  const revoked = new Set<string>();
  const validator: TokenValidator = {
    identityProvider: 'entra_id',
    endpoint: 'verify()',
    size: 0,
    clear() {},
    async validate(token) {
      const claims = revoked.has(token) ? null : await verify(token);
      return claims ? { active: true, claims } : { active: false, reason: 'refused by verify()' };
    },
  };
  const tokenOf = (req: express.Request) => req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
  const app = express();
  app.use(requireToken({ introspection: validator }));
  app.use((req, res) => {
    const claims = req.auth!.claims;
    seen.push({ path: req.path, token: tokenOf(req), status: 200, sub: claims.sub, aud: claims.aud, azp: claims.azp });
    res.json({ path: req.path, ...Object.fromEntries(echoClaims.map((name) => [name, claims[name]])) });
  });
  app.use((error: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (!isAuthError(error)) return next(error);
    seen.push({ path: req.path, token: tokenOf(req), status: error.status });
    res.status(error.status).set(error.headers).json({ error: error.code });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    revoke: (token: string) => void revoked.add(token),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Entra-style JWTs: signature from the issuer's JWKS, issuer, audience and expiry, with jose. */
export function startJwtApi({ issuer, jwksUri, audience, echoClaims }: { issuer: string; jwksUri: string; audience: string | string[] } & EchoOptions) {
  const jwks = createRemoteJWKSet(new URL(jwksUri));
  return startProtectedApi(
    (token) =>
      jwtVerify(token, jwks, { issuer, audience }).then(
        (r) => r.payload,
        () => null,
      ),
    { echoClaims },
  );
}

/** Tokens of the Texas-faithful server, checked by the server's own verify. */
export function startTexasProtectedApi(texas: TexasServer) {
  return startProtectedApi((token) => texas.verify(token));
}
