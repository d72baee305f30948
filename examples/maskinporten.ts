// Maskinporten through Texas: tokens for an external API (for example one of Skatteetaten's),
// fetched by the NAIS token sidecar, cached in this process and attached to every request to API_URL.
//
// Extra packages: none.
// Inputs (environment):
//   NAIS_TOKEN_ENDPOINT (set by NAIS when Texas runs beside the app),
//   MASKINPORTEN_SCOPES (one or more scopes, space-separated, e.g. "nav:test/api skatteetaten:mva"),
//   MASKINPORTEN_RESOURCE (optional: the audience the API wants, RFC 8707),
//   API_URL (the API to call).
// Run: node --import tsx examples/maskinporten.ts
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { attachToken, isTokenError, texas } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const source = texas({
    endpoint: env.NAIS_TOKEN_ENDPOINT,
    identityProvider: 'maskinporten',
    resource: env.MASKINPORTEN_RESOURCE || undefined,
    // Altinn's system users need RFC 9396 authorization details; most APIs need none.
    // authorizationDetails: [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:<orgnr>' } }],
  });

  const api = axios.create({ baseURL: env.API_URL ?? '' });
  // For Maskinporten the "scope" is Texas's target: the space-separated list of scopes.
  const detach = attachToken(api, { source, scope: env.MASKINPORTEN_SCOPES });

  for (let i = 1; i <= 2; i++) {
    const response = await api.get('/things');
    console.log(`GET /things #${i}: ${response.status} ${JSON.stringify(response.data)}`);
  }
  detach();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
