// axios-retry and axios-m2m on the same instance, in either order: axios-retry re-sends requests
// that failed with a network error or a 5xx (each re-send gets a token from the cache), and
// axios-m2m re-sends a request once when the API refuses its token with 401.
//
// Extra packages: axios-retry (axios-m2m uses it inside; your own import needs it in your package.json).
// Inputs (environment): NAIS_TOKEN_ENDPOINT, API_URL, SCOPE.
// Run: node --import tsx examples/with-axios-retry.ts
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import axiosRetry, { exponentialDelay, isNetworkOrIdempotentRequestError } from 'axios-retry';
import { attachToken, isTokenError, texas } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const api = axios.create({ baseURL: env.API_URL ?? '' });
  axiosRetry(api, { retries: 3, retryDelay: exponentialDelay, retryCondition: isNetworkOrIdempotentRequestError });
  attachToken(api, { source: texas(), scope: env.SCOPE });

  // The example API answers 503 to the first request to /flaky: axios-retry sends it again.
  const flaky = await api.get('/flaky');
  console.log(`GET /flaky: ${flaky.status} after ${flaky.config['axios-retry']?.retryCount ?? 0} retry by axios-retry`);
  const things = await api.get('/things');
  console.log(`GET /things: ${things.status} ${JSON.stringify(things.data)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
