// A token source of your own (here: a secrets vault that hands out tokens over HTTP) with the
// package's cache: withCache gives it single-flight fetches, expiry margins, refresh ahead and
// the 401 retry's forced refresh.
//
// Extra packages: none.
// Inputs (environment): VAULT_URL (answers POST /token {scope} with {token, expires_at}), API_URL, SCOPE.
// Run: node --import tsx examples/custom-source.ts
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { attachToken, TokenError, isTokenError, withCache } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const vault = axios.create({ baseURL: env.VAULT_URL ?? '', timeout: 5_000 });

  const source = withCache(
    async (scope, { forceRefresh, signal }) => {
      // `signal` is the cache's own deadline for this shared fetch, not any one caller's.
      const { data } = await vault.post<{ token: string; expires_at: string }>('/token', { scope, fresh: forceRefresh }, signal ? { signal } : {}).catch(() => {
        // Never rethrow the axios error as it is: its config could hold credentials.
        throw new TokenError('network', `vault token request for ${scope} failed`, { scope });
      });
      return { token: data.token, expiresAt: Date.parse(data.expires_at) };
    },
    { name: 'vault', endpoint: `${env.VAULT_URL}/token`, refreshAhead: 120_000 },
  );

  const api = axios.create({ baseURL: env.API_URL ?? '' });
  attachToken(api, { source, scope: env.SCOPE });

  // Ten concurrent requests on a cold cache: one vault call.
  const responses = await Promise.all(Array.from({ length: 10 }, () => api.get('/things')));
  console.log(`10 concurrent requests: ${responses.filter((r) => r.status === 200).length} answered 200`);
  console.log(`token: ${JSON.stringify(responses[0]!.data)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
