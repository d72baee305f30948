import { readFile } from 'node:fs/promises';
import type { CachedTokenSource, SourceCacheOptions } from '../cache/with-cache.js';
import { TokenError } from '../errors.js';
import type { HttpOptions } from '../http/token-client.js';
import { forMessage, optionalObject, optionalString } from '../options.js';
import { clientCredentialsGrant } from './client-credentials.js';

/** Options of {@link workloadIdentity}. Every field is optional when the environment has it. */
export interface WorkloadIdentityOptions extends SourceCacheOptions, HttpOptions {
  /**
   * The federated token file (a Kubernetes service-account token), read afresh for every attempt
   * of a token request because it is rotated in place. On NAIS: `process.env.NAIS_SERVICE_ACCOUNT_TOKEN_PATH`.
   * @default process.env.AZURE_FEDERATED_TOKEN_FILE
   */
  tokenFile?: string | undefined;
  /** The app's client id in Entra ID. @default process.env.AZURE_CLIENT_ID */
  clientId?: string | undefined;
  /**
   * The token endpoint.
   * @default `<AZURE_AUTHORITY_HOST>/<AZURE_TENANT_ID>/oauth2/v2.0/token` (authority host default `https://login.microsoftonline.com`)
   */
  tokenEndpoint?: string | undefined;
}

const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** The token endpoint the AKS workload identity webhook's variables describe, or undefined without a tenant. */
export function azureTokenEndpoint(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (!env.AZURE_TENANT_ID) return undefined;
  const host = (env.AZURE_AUTHORITY_HOST || DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
  return `${host}/${encodeURIComponent(env.AZURE_TENANT_ID)}/oauth2/v2.0/token`;
}

/**
 * Workload identity federation: the client credentials grant with the federated token file's
 * content as the client assertion. A missing or empty file is a `TokenError` (code
 * `configuration`) naming the path, raised by the token request (the file may turn up after
 * start-up) with nothing sent; a 400/401 with AADSTS700024 (assertion expired) gets one immediate
 * retry with the file read again.
 */
export function workloadIdentity(options?: WorkloadIdentityOptions): CachedTokenSource {
  const o = optionalObject('workloadIdentity() options', options);
  const tokenFile = optionalString('tokenFile', o.tokenFile) ?? process.env.AZURE_FEDERATED_TOKEN_FILE;
  const clientId = optionalString('clientId', o.clientId) ?? process.env.AZURE_CLIENT_ID;
  const tokenEndpoint = optionalString('tokenEndpoint', o.tokenEndpoint) ?? azureTokenEndpoint(process.env);
  const missing = [
    tokenFile ? undefined : 'the token file (option tokenFile or AZURE_FEDERATED_TOKEN_FILE)',
    clientId ? undefined : 'the client id (option clientId or AZURE_CLIENT_ID)',
    tokenEndpoint ? undefined : 'the token endpoint (option tokenEndpoint or AZURE_TENANT_ID)',
  ].filter((item) => item !== undefined);
  if (missing.length > 0 || !tokenFile) {
    throw new TokenError('configuration', `workloadIdentity(): ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set`);
  }
  const { tokenFile: _file, ...rest } = o;
  return clientCredentialsGrant(
    {
      ...rest,
      ...(tokenEndpoint !== undefined && { tokenEndpoint }),
      ...(clientId !== undefined && { clientId }),
      clientAssertion: ({ tokenEndpoint: endpoint }) => readAssertion(tokenFile, endpoint),
    },
    { what: 'workloadIdentity()', name: 'workload_identity', retryExpiredAssertion: true },
  );
}

/** The token file's content, trimmed; never cached, since the platform rotates it in place. */
async function readAssertion(path: string, endpoint: string): Promise<string> {
  const label = (() => {
    try {
      const url = new URL(endpoint);
      return `${url.origin}${url.pathname}`;
    } catch {
      return endpoint;
    }
  })();
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new TokenError('configuration', `workloadIdentity(): the token file ${forMessage(path)} ${reason}; no token request was sent (${label})`, { endpoint: label });
  }
  const assertion = content.trim();
  if (assertion === '') {
    throw new TokenError('configuration', `workloadIdentity(): the token file ${forMessage(path)} is empty; no token request was sent (${label})`, { endpoint: label });
  }
  return assertion;
}
