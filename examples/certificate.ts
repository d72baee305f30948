// Client credentials with a certificate: no client secret. Each token request carries a fresh
// client assertion signed with the certificate's private key; Entra ID finds the certificate by
// its SHA-256 thumbprint (the assertion's x5t#S256), or, with sendChain, by subject name and
// issuer from the chain sent as x5c.
//
// Make a key and a self-signed certificate, and register the certificate on the app (--append
// keeps the app's other credentials):
//   openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 365 -subj "/CN=my-app"
//   az ad app credential reset --id <app client id> --cert @cert.pem --append
// (Portal: App registrations > the app > Certificates & secrets > Certificates > Upload certificate.)
//
// Extra packages: none.
// Inputs (environment):
//   CERTIFICATE_KEY_FILE (the PEM private key, RSA) and CERTIFICATE_FILE (the PEM certificate,
//   leaf first when it holds a chain), or both in one file: AZURE_CLIENT_CERTIFICATE_PATH.
//   SEND_CHAIN=true to send the chain (for an app trusted by subject name and issuer).
//   AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_AUTHORITY_HOST (default https://login.microsoftonline.com),
//   API_URL (the API to call) and SCOPE (its scope, e.g. api://dev-gcp.team.other-api/.default).
// Run: node --import tsx examples/certificate.ts
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { attachToken, clientCredentials, isTokenError } from 'axios-m2m';

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  // PEM contents, not paths: from files here, but a vault's secret or a mounted Kubernetes
  // secret read into a string works the same. A key given as contents never touches the disk.
  const both = env.AZURE_CLIENT_CERTIFICATE_PATH;
  const key = readFileSync(both ?? env.CERTIFICATE_KEY_FILE ?? 'key.pem', 'utf8');
  const cert = readFileSync(both ?? env.CERTIFICATE_FILE ?? 'cert.pem', 'utf8');
  const authorityHost = (env.AZURE_AUTHORITY_HOST ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');

  // Checked here, once: a key that does not match the certificate, an expired certificate or a
  // non-RSA key throws a TokenError with code 'configuration' at start-up, naming what is wrong
  // and never showing the key. (fromEnv() does all this from AZURE_CLIENT_CERTIFICATE_PATH and
  // AZURE_CLIENT_SEND_CERTIFICATE_CHAIN, as the Azure SDK reads them.)
  const source = clientCredentials({
    tokenEndpoint: `${authorityHost}/${env.AZURE_TENANT_ID}/oauth2/v2.0/token`,
    clientId: env.AZURE_CLIENT_ID,
    certificate: { key, cert, sendChain: env.SEND_CHAIN === 'true' },
    allowInsecure: authorityHost.startsWith('http://127.0.0.1'),
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
