import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { introspection, isAuthError, requireToken } from '../lib/index.js';
import type { TexasServer } from '../lib/testing/texas-server.js';

// The API the demo calls: Express and the package's own requireToken(), nothing else. It asks the
// Texas server's introspection whether a caller's token is valid for this app (the server's `app`),
// answers 401 with WWW-Authenticate otherwise, and can revoke the token it last saw, as an API does
// after its access policy changed.

export interface DemoApi {
  url: string;
  /** Requests that reached the API, accepted or not. */
  readonly requests: number;
  /** Stops accepting the last token the API saw. */
  revokeLastToken(): void;
  close(): Promise<void>;
}

export async function startProtectedApi(texas: TexasServer): Promise<DemoApi> {
  let lastToken = '';
  let requests = 0;
  const validator = introspection({ endpoint: texas.introspectionEndpoint, identityProvider: 'entra_id' });
  const app = express();
  app.use((req, _res, next) => {
    requests += 1;
    lastToken = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
    next();
  });
  app.use(requireToken({ introspection: validator }));
  app.use((req, res) => void res.json({ ok: true, aud: req.auth?.claims.aud }));
  app.use((error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (!isAuthError(error)) return next(error);
    res.status(error.status).set(error.headers).json({ error: error.code });
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    revokeLastToken: () => {
      texas.revoke(lastToken);
      validator.clear(); // the API forgets what it knew of the token: Texas is asked again
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
