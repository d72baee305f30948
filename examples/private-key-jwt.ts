// Client credentials with private_key_jwt: no client secret, each token request carries a fresh
// client assertion signed with the app's private key (Entra ID's recommended way to authenticate).
//
// Extra packages: none.
// Inputs (environment, as NAIS sets them for an app with Entra ID enabled):
//   AZURE_OPENID_CONFIG_TOKEN_ENDPOINT, AZURE_APP_CLIENT_ID, AZURE_APP_JWK (a private JWK with kid),
//   API_URL (the API to call) and SCOPE (its scope, e.g. api://dev-gcp.team.other-api/.default).
// Run: node --import tsx examples/private-key-jwt.ts
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { attachToken, clientCredentials, isTokenError } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  // The key is checked here, once: a JWK without kid, a public key or bad JSON throws a
  // TokenError with code 'configuration' at start-up, and never shows the key.
  // (Leaving privateJwk out reads AZURE_APP_JWK too, when no AZURE_APP_CLIENT_SECRET is set.)
  const source = clientCredentials({
    tokenEndpoint: env.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT,
    clientId: env.AZURE_APP_CLIENT_ID,
    privateJwk: env.AZURE_APP_JWK,
  });

  const api = axios.create({ baseURL: env.API_URL ?? '' });
  const detach = attachToken(api, { source, scope: env.SCOPE });

  // Both calls carry a bearer token; the second one reuses the cached token.
  for (let i = 1; i <= 2; i++) {
    const response = await api.get('/things');
    console.log(`GET /things #${i}: ${response.status} ${JSON.stringify(response.data)}`);
  }
  detach();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    // A TokenError's message is one line that says what to fix, and never holds the key or a token.
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
