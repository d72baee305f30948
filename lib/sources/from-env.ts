import type { CachedTokenSource, SourceCacheOptions } from '../cache/with-cache.js';
import { TokenError } from '../errors.js';
import { fail, optionalObject } from '../options.js';
import type { HttpOptions } from '../http/token-client.js';
import { importAssertionKey } from './client-assertion.js';
import { andList, clientCredentials, notSet } from './client-credentials.js';
import { readFileSync } from 'node:fs';
import { texas } from './texas.js';
import { azureTokenEndpoint, workloadIdentity } from './workload-identity.js';

/** The variables `fromEnv()` reads. */
export type TokenEnvironment = Partial<
  Record<
    | 'NAIS_TOKEN_ENDPOINT'
    | 'AZURE_OPENID_CONFIG_TOKEN_ENDPOINT'
    | 'AZURE_APP_CLIENT_ID'
    | 'AZURE_APP_CLIENT_SECRET'
    | 'AZURE_APP_JWK'
    | 'AZURE_TENANT_ID'
    | 'AZURE_CLIENT_ID'
    | 'AZURE_CLIENT_SECRET'
    | 'AZURE_AUTHORITY_HOST'
    | 'AZURE_FEDERATED_TOKEN_FILE'
    | 'AZURE_CLIENT_CERTIFICATE_PATH'
    | 'AZURE_CLIENT_SEND_CERTIFICATE_CHAIN',
    string | undefined
  >
>;

/** Options of `fromEnv()`: where the variables come from, and the chosen source's options. */
export interface FromEnvOptions extends SourceCacheOptions, HttpOptions {
  /** The variables to read; only these (`process.env` does not fill in what they leave out). @default process.env */
  env?: TokenEnvironment | Readonly<Record<string, string | undefined>> | undefined;
}

/** An environment variable's name: how the deprecated `fromEnv(env, options)` is told from `fromEnv(options)`. */
const VARIABLE = /^[A-Z][A-Z0-9_]*$/;

/**
 * The source the environment describes: Texas when `NAIS_TOKEN_ENDPOINT` is set (on NAIS the
 * sidecar holds the credentials), else client credentials from the `AZURE_*` variables (with
 * `AZURE_APP_CLIENT_SECRET`, or else private_key_jwt with `AZURE_APP_JWK`), else a `TokenError`
 * (code `configuration`) naming what it looked for.
 *
 * ```ts
 * fromEnv();                                  // process.env
 * fromEnv({ env: { NAIS_TOKEN_ENDPOINT }, timeout: 5_000 });
 * ```
 */
export function fromEnv(options?: FromEnvOptions): CachedTokenSource;
/**
 * The environment as the first argument, the source's options as the second.
 * @deprecated Use `fromEnv({ env, ...options })`.
 */
export function fromEnv(env: TokenEnvironment | Readonly<Record<string, string | undefined>>, options?: SourceCacheOptions & HttpOptions): CachedTokenSource;
export function fromEnv(
  first?: FromEnvOptions | TokenEnvironment | Readonly<Record<string, string | undefined>>,
  second?: SourceCacheOptions & HttpOptions,
): CachedTokenSource {
  const { env, options } = fromEnvArguments(first, second);
  return chooseFromEnv(env, options).source;
}

/**
 * What `fromEnv()` chose, in the words of events and the CLI's JSON, without any credential: the
 * source's name, how a client credentials source authenticates, the token file of workload
 * identity (a path, not its content), and the endpoint's origin and path.
 */
export interface EnvSourceDescription {
  kind: 'texas' | 'client_credentials' | 'workload_identity';
  auth?: 'client_secret' | 'private_key_jwt' | 'certificate';
  token_file?: string;
  endpoint: string;
}

/**
 * fromEnv()'s choice and the source it made, so that the CLI describes what it uses from the one
 * place that decides, and cannot drift from it.
 */
export function chooseFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  options: SourceCacheOptions & HttpOptions,
): { source: CachedTokenSource; description: EnvSourceDescription } {
  if (env.NAIS_TOKEN_ENDPOINT) {
    return { source: texas({ ...options, endpoint: env.NAIS_TOKEN_ENDPOINT }), description: { kind: 'texas', endpoint: label(env.NAIS_TOKEN_ENDPOINT) } };
  }
  const { AZURE_OPENID_CONFIG_TOKEN_ENDPOINT, AZURE_APP_CLIENT_ID, AZURE_APP_CLIENT_SECRET, AZURE_APP_JWK } = env;
  if (AZURE_OPENID_CONFIG_TOKEN_ENDPOINT || AZURE_APP_CLIENT_ID || AZURE_APP_CLIENT_SECRET || AZURE_APP_JWK) {
    // Some AZURE_* variables are set: name every one still missing, and those that are set (names
    // only), so that one round fixes the environment.
    const variables = { AZURE_OPENID_CONFIG_TOKEN_ENDPOINT, AZURE_APP_CLIENT_ID, AZURE_APP_CLIENT_SECRET, AZURE_APP_JWK };
    const missing = [
      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT ? undefined : 'AZURE_OPENID_CONFIG_TOKEN_ENDPOINT',
      AZURE_APP_CLIENT_ID ? undefined : 'AZURE_APP_CLIENT_ID',
      AZURE_APP_CLIENT_SECRET || AZURE_APP_JWK ? undefined : 'AZURE_APP_CLIENT_SECRET (or AZURE_APP_JWK)',
    ].filter((name) => name !== undefined);
    if (missing.length > 0) {
      const set = Object.keys(variables).filter((name) => variables[name as keyof typeof variables]);
      const them = missing.length > 1 ? 'them' : 'it';
      throw new TokenError('configuration', `fromEnv(): ${notSet(missing)}; client credentials need ${them} beside ${andList(set)}`);
    }
    // Checked here too, so that an error names the variable rather than clientCredentials' option.
    if (!AZURE_APP_CLIENT_SECRET) importAssertionKey(AZURE_APP_JWK, 'fromEnv(): AZURE_APP_JWK');
    // Only what `env` holds: process.env must not fill in what a given env left out.
    const source = clientCredentials({
      ...options,
      tokenEndpoint: AZURE_OPENID_CONFIG_TOKEN_ENDPOINT,
      clientId: AZURE_APP_CLIENT_ID,
      ...(AZURE_APP_CLIENT_SECRET ? { clientSecret: AZURE_APP_CLIENT_SECRET } : { privateJwk: AZURE_APP_JWK }),
    });
    const auth = AZURE_APP_CLIENT_SECRET ? 'client_secret' : 'private_key_jwt';
    return { source, description: { kind: 'client_credentials', auth, endpoint: label(AZURE_OPENID_CONFIG_TOKEN_ENDPOINT!) } };
  }
  // The Azure SDK's names (what @azure/identity's EnvironmentCredential and the AKS workload
  // identity webhook set): a secret first, then the federated token file.
  const { AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_CERTIFICATE_PATH } = env;
  if (AZURE_CLIENT_SECRET || AZURE_CLIENT_CERTIFICATE_PATH || AZURE_FEDERATED_TOKEN_FILE) {
    const what = AZURE_CLIENT_SECRET
      ? 'client credentials with AZURE_CLIENT_SECRET'
      : AZURE_CLIENT_CERTIFICATE_PATH
        ? 'client credentials with AZURE_CLIENT_CERTIFICATE_PATH'
        : 'workload identity with AZURE_FEDERATED_TOKEN_FILE';
    const missing = [AZURE_TENANT_ID ? undefined : 'AZURE_TENANT_ID', AZURE_CLIENT_ID ? undefined : 'AZURE_CLIENT_ID'].filter((name) => name !== undefined);
    if (missing.length > 0)
      throw new TokenError('configuration', `fromEnv(): ${notSet(missing)}; ${what} need${missing.length > 1 ? '' : 's'} ${missing.length > 1 ? 'them' : 'it'}`);
    const tokenEndpoint = azureTokenEndpoint(env)!;
    const endpoint = label(tokenEndpoint);
    if (AZURE_CLIENT_SECRET) {
      const source = clientCredentials({ ...options, tokenEndpoint, clientId: AZURE_CLIENT_ID, clientSecret: AZURE_CLIENT_SECRET });
      return { source, description: { kind: 'client_credentials', auth: 'client_secret', endpoint } };
    }
    if (AZURE_CLIENT_CERTIFICATE_PATH) {
      let pem: string;
      try {
        pem = readFileSync(AZURE_CLIENT_CERTIFICATE_PATH, 'utf8');
      } catch (error) {
        throw new TokenError(
          'configuration',
          `fromEnv(): AZURE_CLIENT_CERTIFICATE_PATH ${AZURE_CLIENT_CERTIFICATE_PATH} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
      // One PEM file with the key and the certificate, in either order, as the Azure SDK reads it.
      const key = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(pem)?.[0];
      if (key === undefined) throw new TokenError('configuration', `fromEnv(): AZURE_CLIENT_CERTIFICATE_PATH ${AZURE_CLIENT_CERTIFICATE_PATH} holds no PEM private key`);
      const sendChain = ['true', '1'].includes((env.AZURE_CLIENT_SEND_CERTIFICATE_CHAIN ?? '').toLowerCase());
      const source = clientCredentials({ ...options, tokenEndpoint, clientId: AZURE_CLIENT_ID, certificate: { key, cert: pem.replace(key, ''), sendChain } });
      return { source, description: { kind: 'client_credentials', auth: 'certificate', endpoint } };
    }
    const source = workloadIdentity({ ...options, tokenEndpoint, clientId: AZURE_CLIENT_ID, tokenFile: AZURE_FEDERATED_TOKEN_FILE });
    return { source, description: { kind: 'workload_identity', token_file: AZURE_FEDERATED_TOKEN_FILE!, endpoint } };
  }
  throw new TokenError(
    'configuration',
    'fromEnv(): no token source configured: set NAIS_TOKEN_ENDPOINT (Texas), or AZURE_OPENID_CONFIG_TOKEN_ENDPOINT, AZURE_APP_CLIENT_ID and AZURE_APP_CLIENT_SECRET or AZURE_APP_JWK (NAIS client credentials), or AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH (Azure SDK client credentials), or AZURE_FEDERATED_TOKEN_FILE with AZURE_TENANT_ID and AZURE_CLIENT_ID (workload identity)',
  );
}

/** Origin and path: what events and messages show of an endpoint (no query, no credentials in it). */
function label(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * The two call forms: `fromEnv(options)`, and the deprecated `fromEnv(env, options)`, told apart
 * by a second argument or by a first one that holds a variable's name (process.env always does).
 */
function fromEnvArguments(
  first: FromEnvOptions | TokenEnvironment | Readonly<Record<string, string | undefined>> | undefined,
  second: (SourceCacheOptions & HttpOptions) | undefined,
): { env: Readonly<Record<string, string | undefined>>; options: SourceCacheOptions & HttpOptions } {
  if (first !== undefined && (typeof first !== 'object' || first === null || Array.isArray(first))) {
    fail('fromEnv() options', 'an object', first);
  }
  if (second !== undefined || first === process.env || (first !== undefined && Object.keys(first).some((key) => VARIABLE.test(key)))) {
    return { env: (first ?? process.env) as Readonly<Record<string, string | undefined>>, options: optionalObject('fromEnv() options', second) };
  }
  const { env = process.env, ...options } = (first ?? {}) as FromEnvOptions;
  return { env: optionalObject('env', env), options };
}
