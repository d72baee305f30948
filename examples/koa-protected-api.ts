// A Koa API that validates its callers and calls another API on their behalf, with nothing but
// axios-m2m: requireTokenKoa() asks Texas whether the caller's token is valid for this app
// (introspection), refuses the wrong ones with the right status, and runs the rest of the request
// as that user, so onBehalfOf() exchanges the caller's token for one scoped to the other API.
//
// Extra packages: koa (types for TypeScript: @types/koa).
// Inputs (environment):
//   NAIS_TOKEN_INTROSPECTION_ENDPOINT and NAIS_TOKEN_EXCHANGE_ENDPOINT (set by NAIS when Texas runs beside the app),
//   API_URL and API_SCOPE (the other API and its scope, e.g. api://dev-gcp.team.other-api/.default),
//   USER_TOKEN (a user's token for this app) and OTHER_APP_TOKEN (a valid token for another app):
//   this demo sends requests to itself with them.
// Run: node --import tsx examples/koa-protected-api.ts
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import Koa from 'koa';
import { attachToken, isAuthError, isTokenError, onBehalfOf, requireTokenKoa, type RequestAuth } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<number[]> {
  // Once, at start-up: every request through otherApi carries a token for the current caller.
  const otherApi = axios.create({ baseURL: env.API_URL ?? '' });
  attachToken(otherApi, { source: onBehalfOf({ endpoint: env.NAIS_TOKEN_EXCHANGE_ENDPOINT }), scope: env.API_SCOPE });

  const app = new Koa();
  // Refusals carry status, headers (WWW-Authenticate, Retry-After) and a code: shape the body here.
  // (Without this, Koa's own handler answers with the same status and headers, in plain text.)
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (isAuthError(error)) {
        ctx.set(error.headers);
        ctx.status = error.status;
        ctx.body = { error: error.code };
      } else if (isTokenError(error)) {
        ctx.status = 502; // the exchange failed
        ctx.body = { error: error.code };
      } else throw error;
    }
  });
  // Every request needs a token Texas says is valid for this app (Entra ID).
  app.use(requireTokenKoa({ identityProvider: 'entra_id', endpoint: env.NAIS_TOKEN_INTROSPECTION_ENDPOINT }));
  app.use(async (ctx) => {
    const auth = ctx.state.auth as RequestAuth;
    const { data } = await otherApi.get<unknown>('/whoami'); // on behalf of this caller: no captureUserTokenKoa()
    ctx.body = { me: auth.claims.sub, otherApi: data };
  });

  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/profile`;
  const statuses: number[] = [];
  const call = async (what: string, token?: string) => {
    const response = await fetch(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    const challenge = response.headers.get('www-authenticate');
    console.log(`${what}: ${response.status} ${JSON.stringify(await response.json())}${challenge ? ` (WWW-Authenticate: ${challenge})` : ''}`);
    statuses.push(response.status);
  };
  try {
    await call('GET /profile as the user', env.USER_TOKEN);
    await call('GET /profile without a token');
    await call("GET /profile with another app's token", env.OTHER_APP_TOKEN);
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
