// Tokens for code that uses fetch: axios-m2m/fetch wraps the global fetch with the rules
// attachToken follows for axios (the token only to the origins you name, one retry on 401).
// Extra packages: none (Node's global fetch; axios is installed as axios-m2m's peer).
//
// Inputs (environment): NAIS_TOKEN_ENDPOINT (set by NAIS; locally http://127.0.0.1:7164/api/v1/token
//   from the testing server), API_URL (default http://127.0.0.1:8080), SCOPE
//   (default api://dev-gcp.team.other-api/.default).
// Run: node --import tsx examples/fetch.ts
import { pathToFileURL } from 'node:url';
import { isTokenError, texas } from 'axios-m2m';
import { tokenFetch } from 'axios-m2m/fetch';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const apiUrl = env.API_URL ?? 'http://127.0.0.1:8080';
  const scope = env.SCOPE ?? 'api://dev-gcp.team.other-api/.default';

  // `origins` is required: a fetch has no baseURL, so you say where the token may go.
  const fetchApi = tokenFetch({ source: texas(), scope, origins: [apiUrl] });

  for (let i = 1; i <= 2; i++) {
    const response = await fetchApi(`${apiUrl}/things`);
    console.log(`GET /things #${i}: ${response.status} ${await response.text()}`);
  }
  // Another origin gets the request as it is, without the token.
  const elsewhere = await fetchApi(`${apiUrl.replace('127.0.0.1', 'localhost')}/things`);
  console.log(`GET another origin's /things: ${elsewhere.status}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
