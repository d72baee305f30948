// Workload identity federation: no secret at all. The platform's service-account token, a file
// rotated in place, is the client assertion; it is read again for every token request.
//
// Extra packages: none.
// Inputs (environment):
//   AKS: AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_AUTHORITY_HOST (set by
//   the workload identity webhook). NAIS, to an external Entra tenant: NAIS_SERVICE_ACCOUNT_TOKEN_PATH
//   (audience `nais`) with AZURE_CLIENT_ID and AZURE_TENANT_ID set by you.
//   API_URL (the API to call) and SCOPE (its scope, e.g. api://dev-gcp.team.other-api/.default).
// Run: node --import tsx examples/workload-identity.ts
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { attachToken, isTokenError, workloadIdentity } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  // On NAIS the token file has another name; on AKS the defaults read the webhook's variables.
  const source = workloadIdentity({
    tokenFile: env.NAIS_SERVICE_ACCOUNT_TOKEN_PATH ?? env.AZURE_FEDERATED_TOKEN_FILE,
    clientId: env.AZURE_CLIENT_ID,
    tokenEndpoint: `${(env.AZURE_AUTHORITY_HOST ?? 'https://login.microsoftonline.com').replace(/\/+$/, '')}/${env.AZURE_TENANT_ID}/oauth2/v2.0/token`,
    allowInsecure: env.AZURE_AUTHORITY_HOST?.startsWith('http://127.0.0.1') ?? false,
  });
  const api = axios.create({ baseURL: env.API_URL ?? '' });
  const detach = attachToken(api, { source, scope: env.SCOPE });
  const response = await api.get('/things');
  console.log(`GET /things: ${response.status} ${JSON.stringify(response.data)}`);
  detach();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(isTokenError(error) ? `token error [${error.code}]: ${error.message}` : error);
    process.exitCode = 1;
  });
}
