import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/**
 * A protected API (Express 5) as a real one checks Entra ID tokens: the signature against the
 * issuer's JWKS (`createRemoteJWKSet`), the issuer, the audience and the expiry (`jwtVerify`).
 * `revoke` makes it refuse a token from then on.
 */
export async function startJwtApi({ issuer, jwksUri, audience }: { issuer: string; jwksUri: string; audience: string | string[] }) {
  const jwks = createRemoteJWKSet(new URL(jwksUri));
  const seen: { path: string; token: string | undefined; status: number }[] = [];
  const revoked = new Set<string>();
  const app = express();
  app.use(async (req, res) => {
    const token = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    let claims: Record<string, unknown> | undefined;
    if (token && !revoked.has(token)) {
      try {
        claims = (await jwtVerify(token, jwks, { issuer, audience })).payload;
      } catch {
        claims = undefined;
      }
    }
    seen.push({ path: req.path, token, status: claims ? 200 : 401 });
    if (!claims) {
      res.status(401).set('www-authenticate', 'Bearer error="invalid_token"').json({ error: 'invalid_token' });
      return;
    }
    res.json({ path: req.path, sub: claims.sub, aud: claims.aud });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    revoke: (token: string) => void revoked.add(token),
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
