// Choosing scopes: per instance, per request, by a function of the URL, and no token at all.
// First match wins: the request's token.scope, the instance's token.scope, attachToken's scope.
//
// Extra packages: none.
// Inputs (environment): NAIS_TOKEN_ENDPOINT, API_URL.
// Run: node --import tsx examples/scopes.ts
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { attachToken, isTokenError, texas } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const source = texas(); // one source (and cache) can serve many instances and scopes

  // 1. The instance names its scope; axios merges it into every request of the instance.
  const orders = axios.create({ baseURL: env.API_URL ?? '', token: { scope: 'api://dev-gcp.team.orders/.default' } });
  attachToken(orders, { source });

  // 2. A function maps URLs to scopes for an instance that talks to several APIs behind one gateway.
  const gateway = axios.create({ baseURL: env.API_URL ?? '' });
  attachToken(gateway, {
    source,
    scope: (config) => (config.url?.startsWith('/users') ? 'api://dev-gcp.team.users/.default' : 'api://dev-gcp.team.gateway/.default'),
  });

  const show = (label: string, data: unknown) => console.log(`${label}: ${JSON.stringify(data)}`);
  show('instance scope', (await orders.get('/things')).data);
  // 3. One request with its own scope wins over the instance's.
  show('request scope', (await orders.get('/things', { token: { scope: 'api://dev-gcp.team.audit/.default' } })).data);
  show('function, /users', (await gateway.get('/users/things')).data);
  show('function, other', (await gateway.get('/things')).data);
  // 4. token: false sends this request without a token (health checks, public endpoints).
  show('token: false', (await gateway.get('/health', { token: false })).data);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
