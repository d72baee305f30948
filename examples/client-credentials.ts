// Client credentials against Entra ID's token endpoint, every option spelled out (a variant of
// attach-texas.ts: only the source differs).
//
// Extra packages: none.
// Inputs (environment): AZURE_OPENID_CONFIG_TOKEN_ENDPOINT, AZURE_APP_CLIENT_ID,
//   AZURE_APP_CLIENT_SECRET, API_URL, SCOPE.
// Run: node --import tsx examples/client-credentials.ts
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { attachToken, clientCredentials, isTokenError } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const source = clientCredentials({
    tokenEndpoint: env.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT,
    clientId: env.AZURE_APP_CLIENT_ID,
    clientSecret: env.AZURE_APP_CLIENT_SECRET,
    expiryMargin: 30_000, // stop serving a token 30 s before it expires (at most a tenth of its life)
    refreshAhead: 60_000, // refresh in the background from 60 s before (at most a quarter of its life)
    maxEntries: 1_000, // scopes kept
    timeout: 20_000, // deadline for one token, retries included
    attemptTimeout: 5_000, // one HTTP attempt
    retries: 2, // after network errors, 408, 429 and 5xx
    maxRetryAfter: 10_000, // a longer Retry-After fails at once with code 'throttled'
  });
  const api = axios.create({ baseURL: env.API_URL ?? '' });
  attachToken(api, { source, scope: env.SCOPE });

  const first = await api.get('/things');
  const second = await api.get('/things');
  console.log(`GET /things twice: ${first.status}, ${second.status}; scopes cached: ${source.size}`);
  console.log(JSON.stringify(second.data));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    // e.g. "token request for api://x/.default failed: 401 invalid_client: AADSTS7000215: ..."
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
