// Client credentials with your own client assertion: the private key never leaves the vault or the
// HSM that holds it. The package calls clientAssertion for every token request attempt (each gets
// a new jti, so a retry is never refused as a replay) and sends what it returns as the
// jwt-bearer client assertion; a failure of the callback is a TokenError with it as `cause`, and
// the assertion appears in no error, event or log line.
//
// Register the key's public half on the app as a certificate (Entra ID then knows the key by the
// certificate's thumbprint: sign with an `x5t#S256` header), or, on NAIS, let the platform
// register a JWK (AZURE_APP_JWK) and sign with its `kid`, as here.
//
// The signer below signs with a PEM key from a file, standing in for the vault: with Azure Key
// Vault it is `new CryptographyClient(keyId, credential).signData('RS256', data)` (package
// @azure/keyvault-keys), with an HSM its PKCS#11 sign call. Only the signing changes.
//
// Extra packages: none.
// Inputs (environment):
//   SIGNING_KEY_FILE (the PEM private key the stand-in signs with) and SIGNING_KEY_ID (its kid),
//   AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_AUTHORITY_HOST (default https://login.microsoftonline.com),
//   API_URL (the API to call) and SCOPE (its scope, e.g. api://dev-gcp.team.other-api/.default).
// Run: node --import tsx examples/client-assertion.ts
import { randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { attachToken, clientCredentials, isTokenError } from 'axios-m2m';

/** Signs `data` with RS256 where the key lives; the stand-in reads a PEM key file. */
type Signer = (data: Buffer) => Promise<Buffer>;

function fileSigner(keyFile: string): Signer {
  return (data) => Promise.resolve().then(() => sign('sha256', data, readFileSync(keyFile, 'utf8')));
}

const base64url = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const signer = fileSigner(env.SIGNING_KEY_FILE ?? 'key.pem');
  const authorityHost = (env.AZURE_AUTHORITY_HOST ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');

  const source = clientCredentials({
    tokenEndpoint: `${authorityHost}/${env.AZURE_TENANT_ID}/oauth2/v2.0/token`,
    clientId: env.AZURE_CLIENT_ID,
    // Entra ID's client assertion: iss and sub the client id, aud the token endpoint, a short
    // lifetime and a jti of its own (Entra refuses one it has seen).
    clientAssertion: async ({ clientId, tokenEndpoint }) => {
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: 'RS256', typ: 'JWT', kid: env.SIGNING_KEY_ID };
      const claims = { iss: clientId, sub: clientId, aud: tokenEndpoint, jti: randomUUID(), iat: now, nbf: now, exp: now + 300 };
      const signingInput = `${base64url(header)}.${base64url(claims)}`;
      return `${signingInput}.${base64url(await signer(Buffer.from(signingInput)))}`;
    },
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
