// Tokens for an SDK that takes a bearer-token callback: tokenProvider(source, scope) is
// `() => Promise<string>`, the shape of the Azure SDK's getBearerTokenProvider, served from the
// package's cache. Here a tiny SDK-like client stands in for one; pass getBearer where your SDK
// asks for a token function (or build its `headers` from it per request).
// Extra packages: none.
//
// Inputs (environment): NAIS_TOKEN_ENDPOINT (set by NAIS; locally the testing server's),
//   API_URL (default http://127.0.0.1:8080), SCOPE (default api://dev-gcp.team.other-api/.default).
// Run: node --import tsx examples/sdk-token-provider.ts
import { pathToFileURL } from 'node:url';
import { isTokenError, texas, tokenProvider } from 'axios-m2m';

/** What such SDKs do with the callback: ask it for a token before each call. */
function createSdkClient({ endpoint, getToken }: { endpoint: string; getToken: () => Promise<string> }) {
  return {
    async get(path: string): Promise<{ status: number; body: string }> {
      const response = await fetch(`${endpoint}${path}`, { headers: { Authorization: `Bearer ${await getToken()}` } });
      return { status: response.status, body: await response.text() };
    },
  };
}

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const getBearer = tokenProvider(texas(), env.SCOPE ?? 'api://dev-gcp.team.other-api/.default');
  const client = createSdkClient({ endpoint: env.API_URL ?? 'http://127.0.0.1:8080', getToken: getBearer });
  for (let i = 1; i <= 2; i++) {
    const { status, body } = await client.get('/things');
    console.log(`SDK GET /things #${i}: ${status} ${body}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
