// An Express app that calls an internal API on behalf of the logged-in user: Texas exchanges the
// user's token (from the incoming request's Authorization header) for one scoped to that API.
// The axios instance is attached once; captureUserToken() gives each request its own user.
//
// Extra packages: express (types for TypeScript: @types/express).
// Inputs (environment):
//   NAIS_TOKEN_EXCHANGE_ENDPOINT (set by NAIS when Texas runs beside the app),
//   API_URL and API_SCOPE (the internal API and its scope, e.g. api://dev-gcp.team.other-api/.default),
//   USER_TOKEN (a user's access token: this demo sends one request to itself as that user).
// Run: node --import tsx examples/express-on-behalf-of.ts
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import express, { type NextFunction, type Request, type Response } from 'express';
import { attachToken, captureUserToken, isTokenError, onBehalfOf } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<{ withUser: unknown; withoutUser: unknown }> {
  // Once, at start-up: every request through otherApi to its baseURL carries a token for the current user.
  const otherApi = axios.create({ baseURL: env.API_URL ?? '' });
  attachToken(otherApi, { source: onBehalfOf({ endpoint: env.NAIS_TOKEN_EXCHANGE_ENDPOINT }), scope: env.API_SCOPE });

  const app = express();
  app.use(captureUserToken()); // after your own authentication, before the routes
  app.get('/profile', async (_req, res) => {
    const { data } = await otherApi.get<unknown>('/whoami'); // exchanged for this request's user
    res.json({ otherApi: data });
  });
  // A request without a user token, or a refused exchange, is the caller's problem: 401.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!isTokenError(error)) return next(error);
    res.status(error.code === 'no_user_token' || error.status === 400 || error.status === 401 ? 401 : 502).json({ error: error.code });
  });

  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/profile`;
  try {
    // What a browser or a frontend would send: the user's token as a bearer token.
    const asUser = await fetch(url, { headers: { authorization: `Bearer ${env.USER_TOKEN}` } });
    const withUser = await asUser.json();
    console.log(`GET /profile as the user: ${asUser.status} ${JSON.stringify(withUser)}`);
    const anonymous = await fetch(url);
    const withoutUser = await anonymous.json();
    console.log(`GET /profile without a token: ${anonymous.status} ${JSON.stringify(withoutUser)}`);
    return { withUser, withoutUser };
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
