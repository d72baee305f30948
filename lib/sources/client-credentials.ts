import type { JWK } from 'jose';
import { withCache, type CachedTokenSource, type SourceCacheOptions } from '../cache/with-cache.js';
import { TokenError, isTokenError } from '../errors.js';
import { parseEndpoint } from '../http/endpoint.js';
import { TokenClient, type AttemptFields, type HttpOptions } from '../http/token-client.js';
import { assertScope, fail, forMessage, optionalObject, optionalString } from '../options.js';
import { checkCertificate, signCertificateAssertion, type CertificateCredential } from './certificate.js';
import { CLIENT_ASSERTION_TYPE, importAssertionKey, signClientAssertion } from './client-assertion.js';

/** Options of {@link clientCredentials}. Every field is optional when the environment has it. */
export interface ClientCredentialsOptions extends SourceCacheOptions, HttpOptions {
  /** The token endpoint. @default process.env.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT */
  tokenEndpoint?: string | undefined;
  /** The app's client id in Entra ID. @default process.env.AZURE_APP_CLIENT_ID */
  clientId?: string | undefined;
  /**
   * The client secret. Give this or `privateJwk`, not both.
   * @default process.env.AZURE_APP_CLIENT_SECRET
   */
  clientSecret?: string | undefined;
  /**
   * A private JWK (an object or its JSON string) for private_key_jwt: each attempt of a token
   * request carries a fresh client assertion (a new jti) signed with it instead of a secret. It must have `kid`; `alg` defaults to
   * RS256 for RSA keys. Give this or `clientSecret`, not both.
   * @default process.env.AZURE_APP_JWK, when no client secret is given or set
   */
  privateJwk?: JWK | string | undefined;
  /**
   * Makes the client assertion: called for every attempt of a token request (a retry after a 5xx
   * or a timeout included, so that no assertion is sent twice), its string sent as
   * `client_assertion` (jwt-bearer type) instead of a secret, for assertions minted elsewhere (a
   * vault, an HSM, another federation). Its failure is a `TokenError` (code `unknown`) with the
   * callback's error as `cause`; a `TokenError` it throws is passed on as it is. The assertion
   * appears in no error. Give this, `clientSecret` or `privateJwk`.
   */
  clientAssertion?: ((context: ClientAssertionContext) => string | Promise<string>) | undefined;
  /**
   * A certificate credential: each attempt of a token request carries a fresh assertion signed (PS256) with the
   * key, with `x5t#S256` (and `x5c` when `sendChain`). Checked at creation: an RSA key matching an
   * unexpired certificate. Give this, `clientSecret`, `privateJwk` or `clientAssertion`.
   */
  certificate?: CertificateCredential | undefined;
}

/** What {@link ClientCredentialsOptions.clientAssertion} is called with. */
export interface ClientAssertionContext {
  /** The client id the assertion is for (its `iss` and `sub` when it is self-signed). */
  clientId: string;
  /** The token endpoint URL (the `aud` of a self-signed assertion). */
  tokenEndpoint: string;
  /** Aborts when the token request is given up. */
  signal?: AbortSignal;
}

/** How a source built on the grant differs from {@link clientCredentials}: its name and one retry rule. */
export interface ClientCredentialsVariant {
  /** The factory named in messages. @default 'clientCredentials()' */
  what: string;
  /** The cache's name for the source. */
  name: string;
  /**
   * Answers a 400/401 whose AADSTS codes include 700024 (assertion expired) with one immediate
   * retry and a freshly made assertion: a token file rotated in place may have been read just
   * before it was replaced.
   */
  retryExpiredAssertion?: boolean;
}

/** How the client proves who it is: the form fields it adds to each attempt of a token request. */
type ClientAuthentication = (scope: string, signal?: AbortSignal) => Promise<AttemptFields>;

/**
 * The OAuth 2.0 client credentials grant, as Entra ID speaks it (form body, one `/.default` scope
 * per request), with a client secret or a private_key_jwt client assertion, cached.
 * Configuration is checked here, at creation.
 */
export function clientCredentials(options?: ClientCredentialsOptions): CachedTokenSource {
  return clientCredentialsGrant(optionalObject('clientCredentials() options', options), { what: 'clientCredentials()', name: 'client_credentials' });
}

/** {@link clientCredentials} with the differences of a source built on it (workload identity). */
export function clientCredentialsGrant(o: ClientCredentialsOptions, variant: ClientCredentialsVariant): CachedTokenSource {
  const tokenEndpoint = optionalString('tokenEndpoint', o.tokenEndpoint) ?? process.env.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT;
  const clientId = optionalString('clientId', o.clientId) ?? process.env.AZURE_APP_CLIENT_ID;
  // Everything missing in one message, so that fixing the environment takes one round, not three.
  const missing = [
    tokenEndpoint ? undefined : 'the token endpoint (option tokenEndpoint or AZURE_OPENID_CONFIG_TOKEN_ENDPOINT)',
    clientId ? undefined : 'the client id (option clientId or AZURE_APP_CLIENT_ID)',
    hasCredential(o) ? undefined : 'a client secret or private key (option clientSecret or AZURE_APP_CLIENT_SECRET, or option privateJwk or AZURE_APP_JWK)',
  ].filter((item) => item !== undefined);
  const endpoint = tokenEndpoint
    ? parseEndpoint(tokenEndpoint, 'clientCredentials(): the token endpoint (option tokenEndpoint or AZURE_OPENID_CONFIG_TOKEN_ENDPOINT)', {
        allowInsecure: o.allowInsecure,
      })
    : undefined;
  if (missing.length > 0 || !endpoint || !clientId) {
    throw new TokenError('configuration', `${variant.what}: ${notSet(missing)}`, endpoint ? { endpoint: endpoint.label } : {});
  }
  const authenticate = clientAuthentication(o, clientId, endpoint.url, endpoint.label);
  const client = new TokenClient(endpoint, o);

  const request = (scope: string, signal: AbortSignal | undefined) =>
    // The grant has no "skip cache": every request is a new token, forced or not. The client's
    // proof is made for each attempt, so a retry never sends an assertion already spent.
    client.post({
      scope,
      format: 'form',
      signal,
      perAttempt: (attemptSignal) => authenticate(scope, attemptSignal),
      body: { grant_type: 'client_credentials', client_id: clientId, scope },
    });
  return withCache(
    async (scope, { signal }) => {
      assertScope(scope);
      try {
        return await request(scope, signal);
      } catch (error) {
        if (!variant.retryExpiredAssertion || !expiredAssertion(error)) throw error;
        return request(scope, signal);
      }
    },
    { ...o, endpoint: endpoint.label, name: variant.name },
  );
}

/**
 * Picks the client authentication. Explicit options win over the environment; from the
 * environment a secret wins over a JWK, so that setting AZURE_APP_JWK beside a working secret
 * changes nothing.
 */
function clientAuthentication(o: ClientCredentialsOptions, clientId: string, audience: string, label: string): ClientAuthentication {
  const explicitSecret = optionalString('clientSecret', o.clientSecret);
  if (o.certificate !== undefined) {
    if (explicitSecret !== undefined || o.privateJwk !== undefined || o.clientAssertion !== undefined) {
      throw new TokenError('configuration', 'clientCredentials(): give one of clientSecret, privateJwk, clientAssertion and certificate', { endpoint: label });
    }
    const cert = checkCertificate(o.certificate, `${'clientCredentials(): option certificate'}`);
    return async () => {
      const assertion = await signCertificateAssertion(cert, { clientId, audience });
      return { fields: { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }, secrets: [assertion] };
    };
  }
  if (o.clientAssertion !== undefined) {
    if (typeof o.clientAssertion !== 'function') fail('clientAssertion', 'a function', o.clientAssertion);
    if (explicitSecret !== undefined || o.privateJwk !== undefined) {
      throw new TokenError('configuration', 'clientCredentials(): give one of clientSecret, privateJwk and clientAssertion', { endpoint: label });
    }
    return assertionCallback(o.clientAssertion, clientId, audience, label);
  }
  if (o.privateJwk !== undefined && typeof o.privateJwk !== 'string' && (typeof o.privateJwk !== 'object' || o.privateJwk === null)) {
    fail('privateJwk', 'a JWK object or its JSON string', o.privateJwk);
  }
  if (explicitSecret !== undefined && o.privateJwk !== undefined) {
    throw new TokenError('configuration', 'clientCredentials(): give clientSecret or privateJwk, not both', { endpoint: label });
  }
  const clientSecret = o.privateJwk === undefined ? (explicitSecret ?? process.env.AZURE_APP_CLIENT_SECRET) : undefined;
  if (clientSecret) {
    const secrets = [clientSecret];
    return () => Promise.resolve({ fields: { client_secret: clientSecret }, secrets });
  }
  const jwk = o.privateJwk ?? process.env.AZURE_APP_JWK!; // hasCredential() said one is set
  const what = o.privateJwk === undefined ? 'clientCredentials(): AZURE_APP_JWK' : 'clientCredentials(): option privateJwk';
  const key = importAssertionKey(jwk, what);
  return async (scope) => {
    let assertion: string;
    try {
      assertion = await signClientAssertion(key, { clientId, audience });
    } catch {
      // Checked at creation, so this is unexpected; the cause is left out as it may describe the key.
      throw new TokenError('configuration', `token request for ${forMessage(scope)} failed: could not sign the client assertion (${label})`, {
        scope,
        endpoint: label,
      });
    }
    return { fields: { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }, secrets: [assertion] };
  };
}

/** The fields of a token request whose assertion comes from `callback`, called afresh each time. */
function assertionCallback(
  callback: NonNullable<ClientCredentialsOptions['clientAssertion']>,
  clientId: string,
  tokenEndpoint: string,
  label: string,
): ClientAuthentication {
  return async (scope, signal) => {
    const failed = (what: string, code: 'unknown' | 'configuration', cause?: unknown) =>
      new TokenError(code, `token request for ${forMessage(scope)} failed: ${what} (${label})`, {
        scope,
        endpoint: label,
        ...(cause !== undefined && { cause }),
      });
    let assertion: unknown;
    try {
      assertion = await callback({ clientId, tokenEndpoint, ...(signal && { signal }) });
    } catch (error) {
      if (isTokenError(error)) throw error;
      throw failed('the clientAssertion callback failed', 'unknown', error);
    }
    if (typeof assertion !== 'string' || assertion.trim() === '') {
      throw failed(`the clientAssertion callback gave ${typeof assertion === 'string' ? 'an empty string' : typeof assertion}, not an assertion`, 'configuration');
    }
    return { fields: { client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion }, secrets: [assertion] };
  };
}

/** A 400/401 from Entra ID whose AADSTS codes say the client assertion has expired. */
function expiredAssertion(error: unknown): boolean {
  return isTokenError(error) && (error.status === 400 || error.status === 401) && (error.errorCodes ?? []).includes(700024);
}

/** Whether a client secret or a private key is given or set, by the same rules as {@link clientAuthentication}. */
function hasCredential(o: ClientCredentialsOptions): boolean {
  if (o.privateJwk !== undefined || o.clientAssertion !== undefined || o.certificate !== undefined) return true;
  return Boolean((o.clientSecret ?? process.env.AZURE_APP_CLIENT_SECRET) || process.env.AZURE_APP_JWK);
}

/** "A", "A and B", "A, B and C". */
export function andList(items: string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : (items[0] ?? '');
}

/** "A is not set", "A and B are not set", "A, B and C are not set". */
export function notSet(items: string[]): string {
  return `${andList(items)} ${items.length > 1 ? 'are' : 'is'} not set`;
}
