// An Express API that validates its callers and calls another API on their behalf, with nothing
// but axios-m2m: requireToken() asks Texas whether the caller's token is valid for this app
// (introspection), refuses the wrong ones with the right status, and runs the route as that user,
// so onBehalfOf() exchanges the caller's token for one scoped to the other API.
//
// Extra packages: express (types for TypeScript: @types/express).
// Inputs (environment):
//   NAIS_TOKEN_INTROSPECTION_ENDPOINT and NAIS_TOKEN_EXCHANGE_ENDPOINT (set by NAIS when Texas runs beside the app),
//   API_URL and API_SCOPE (the other API and its scope, e.g. api://dev-gcp.team.other-api/.default),
//   USER_TOKEN (a user's token for this app) and OTHER_APP_TOKEN (a valid token for another app):
//   this demo sends requests to itself with them.
// Run: node --import tsx examples/protected-api.ts
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import express, { type NextFunction, type Request, type Response } from 'express';
import { attachToken, hasRole, isAuthError, isTokenError, onBehalfOf, requireToken } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<number[]> {
  // Once, at start-up: every request through otherApi carries a token for the current caller.
  const otherApi = axios.create({ baseURL: env.API_URL ?? '' });
  attachToken(otherApi, { source: onBehalfOf({ endpoint: env.NAIS_TOKEN_EXCHANGE_ENDPOINT }), scope: env.API_SCOPE });

  const app = express();
  // Every route under /api needs a token Texas says is valid for this app (Entra ID).
  app.use('/api', requireToken({ identityProvider: 'entra_id', endpoint: env.NAIS_TOKEN_INTROSPECTION_ENDPOINT }));
  app.get('/api/profile', async (req, res) => {
    const { data } = await otherApi.get<unknown>('/whoami'); // on behalf of this caller: no captureUserToken()
    res.json({ me: req.auth?.claims.sub, otherApi: data });
  });
  // This route also needs an app role: without it, 403.
  app.get('/api/admin', requireToken({ endpoint: env.NAIS_TOKEN_INTROSPECTION_ENDPOINT, authorize: hasRole('admin') }), (req, res) => {
    res.json({ admin: req.auth?.claims.sub });
  });
  // Refusals carry status, headers (WWW-Authenticate, Retry-After) and a code: shape the body here.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (isAuthError(error)) return void res.status(error.status).set(error.headers).json({ error: error.code });
    if (isTokenError(error)) return void res.status(502).json({ error: error.code }); // the exchange failed
    next(error);
  });

  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const statuses: number[] = [];
  const call = async (what: string, path: string, token?: string) => {
    const response = await fetch(`${base}${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    const challenge = response.headers.get('www-authenticate');
    console.log(`${what}: ${response.status} ${JSON.stringify(await response.json())}${challenge ? ` (WWW-Authenticate: ${challenge})` : ''}`);
    statuses.push(response.status);
  };
  try {
    await call('GET /api/profile as the user', '/api/profile', env.USER_TOKEN);
    await call('GET /api/profile without a token', '/api/profile');
    await call("GET /api/profile with another app's token", '/api/profile', env.OTHER_APP_TOKEN);
    await call('GET /api/admin as the user, without the admin role', '/api/admin', env.USER_TOKEN);
    return statuses;
  } finally {
    server.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
