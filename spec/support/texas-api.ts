import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { TexasTestServer } from '../../lib/testing/texas.js';

/**
 * A protected API (Express 5) that accepts a request only with a token the Texas server minted,
 * checked by the server's own `verify` (as an API checks issuer, signature and expiry), for the
 * expected audience. `revoke` makes it answer 401 to that token from then on.
 */
export async function startTexasProtectedApi(texas: TexasTestServer) {
  const seen: { path: string; token: string | undefined; status: number; sub?: unknown; aud?: unknown }[] = [];
  const revoked = new Set<string>();
  const app = express();
  app.use(async (req, res) => {
    const token = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    const claims = token && !revoked.has(token) ? await texas.verify(token) : null;
    const status = claims ? 200 : 401;
    seen.push({ path: req.path, token, status, sub: claims?.sub, aud: claims?.aud });
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
