// Attach axios-m2m to an axios instance you already have, on NAIS: Texas, with the platform's
// environment defaults. Every request through the instance carries a token for the API's scope.
//
// Extra packages: none.
// Inputs (environment): NAIS_TOKEN_ENDPOINT (set by NAIS), API_URL, SCOPE
//   (e.g. api://dev-gcp.team.other-api/.default).
// Run: node --import tsx examples/attach-texas.ts
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { attachToken, isTokenError, texas } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  // The instance your service already has: its baseURL, timeouts and headers stay as they are.
  // (`?? ''`: axios's types take no undefined baseURL; attachToken refuses an empty one as a missing one.)
  const api = axios.create({ baseURL: env.API_URL ?? '', timeout: 5_000 });

  // texas() reads NAIS_TOKEN_ENDPOINT; a missing variable throws here, at start-up.
  attachToken(api, { source: texas(), scope: env.SCOPE });

  for (let i = 1; i <= 3; i++) {
    const response = await api.get('/things');
    console.log(`GET /things #${i}: ${response.status} ${JSON.stringify(response.data)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
