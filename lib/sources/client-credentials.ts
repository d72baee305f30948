import { withCache, type CacheOptions, type CachedTokenSource } from '../cache/with-cache.js';
import { TokenError } from '../errors.js';
import { parseEndpoint } from '../http/endpoint.js';
import { TokenClient, type HttpOptions } from '../http/token-client.js';
import { assertScope, optionalObject, optionalString } from '../options.js';

/** Options of {@link clientCredentials}. Every field is optional when the environment has it. */
export interface ClientCredentialsOptions extends CacheOptions, HttpOptions {
  /** The token endpoint. @default process.env.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT */
  tokenEndpoint?: string;
  /** @default process.env.AZURE_APP_CLIENT_ID */
  clientId?: string;
  /** @default process.env.AZURE_APP_CLIENT_SECRET */
  clientSecret?: string;
}

/**
 * The OAuth 2.0 client credentials grant, as Entra ID speaks it (form body, `client_secret`,
 * one `/.default` scope per request), cached. Configuration is checked here, at creation.
 */
export function clientCredentials(options?: ClientCredentialsOptions): CachedTokenSource {
  const o = optionalObject('clientCredentials() options', options);
  const endpoint = parseEndpoint(
    optionalString('tokenEndpoint', o.tokenEndpoint) ?? process.env.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT,
    'clientCredentials(): the token endpoint (option tokenEndpoint or AZURE_OPENID_CONFIG_TOKEN_ENDPOINT)',
    { allowInsecure: o.allowInsecure },
  );
  const clientId = optionalString('clientId', o.clientId) ?? process.env.AZURE_APP_CLIENT_ID;
  const clientSecret = optionalString('clientSecret', o.clientSecret) ?? process.env.AZURE_APP_CLIENT_SECRET;
  if (!clientId) {
    throw new TokenError('configuration', 'clientCredentials(): the client id (option clientId or AZURE_APP_CLIENT_ID) is not set', {
      endpoint: endpoint.label,
    });
  }
  if (!clientSecret) {
    throw new TokenError(
      'configuration',
      'clientCredentials(): the client secret (option clientSecret or AZURE_APP_CLIENT_SECRET) is not set',
      { endpoint: endpoint.label },
    );
  }
  const client = new TokenClient(endpoint, o);
  const secrets = [clientSecret];

  return withCache(
    (scope, { signal }) => {
      assertScope(scope);
      // The grant has no "skip cache": every request is a new token, forced or not.
      return client.post({
        scope,
        format: 'form',
        signal,
        secrets,
        body: { grant_type: 'client_credentials', client_id: clientId, scope, client_secret: clientSecret },
      });
    },
    { ...o, endpoint: endpoint.label },
  );
}
