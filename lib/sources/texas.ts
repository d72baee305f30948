import { withCache, type CachedTokenSource, type SourceCacheOptions } from '../cache/with-cache.js';
import { parseEndpoint } from '../http/endpoint.js';
import { TokenClient, type HttpOptions } from '../http/token-client.js';
import { assertScope, fail, identityProviderOption, optionalObject, optionalString } from '../options.js';
import type { IdentityProviderFor } from '../types.js';

/**
 * Identity providers that Texas's `/api/v1/token` serves.
 * @deprecated Use `IdentityProviderFor<'token'>` (the same type).
 */
export type TexasIdentityProvider = IdentityProviderFor<'token'>;

/** Options of {@link texas}. Every field is optional. */
export interface TexasOptions extends SourceCacheOptions, HttpOptions {
  /** Texas's token endpoint. @default process.env.NAIS_TOKEN_ENDPOINT */
  endpoint?: string | undefined;
  /** Whose tokens to get: `entra_id` (`azuread`, its older name) or `maskinporten`. @default 'entra_id' */
  identityProvider?: IdentityProviderFor<'token'> | undefined;
  /** Maskinporten only: the RFC 8707 resource indicator. */
  resource?: string | undefined;
  /** Maskinporten only: RFC 9396 authorization details. */
  authorizationDetails?: readonly object[] | undefined;
  /** How the request body is encoded; Texas takes both. @default 'json' */
  bodyFormat?: 'json' | 'form' | undefined;
}

/**
 * Tokens from Texas, the NAIS platform's token sidecar (`POST /api/v1/token`), cached.
 * A forced refresh sends `skip_cache: true`: without it Texas answers from its own cache with the
 * very token the API just refused (docs/protocols/texas.md, "Texas's own cache").
 */
export function texas(options?: TexasOptions): CachedTokenSource {
  const o = optionalObject('texas() options', options);
  const endpoint = parseEndpoint(
    optionalString('endpoint', o.endpoint) ?? process.env.NAIS_TOKEN_ENDPOINT,
    'texas(): the token endpoint (option endpoint or NAIS_TOKEN_ENDPOINT)',
    { allowInsecure: o.allowInsecure },
  );
  const identityProvider = identityProviderOption(o.identityProvider, 'token');
  const resource = optionalString('resource', o.resource);
  const details = o.authorizationDetails;
  if (details !== undefined && (!Array.isArray(details) || !details.every((d) => typeof d === 'object' && d !== null && !Array.isArray(d)))) {
    fail('authorizationDetails', 'an array of objects', details);
  }
  // A copy: the cache key assumes the details never change, whatever the caller does to its array.
  const authorizationDetails = details === undefined ? undefined : (structuredClone(details) as object[]);
  if ((resource !== undefined || o.authorizationDetails !== undefined) && identityProvider !== 'maskinporten') {
    throw new TypeError('axios-m2m: texas(): resource and authorizationDetails are for identityProvider maskinporten');
  }
  const format = o.bodyFormat ?? 'json';
  if (format !== 'json' && format !== 'form') fail('bodyFormat', "'json' or 'form'", format);
  const client = new TokenClient(endpoint, o);
  const allowList = identityProvider === 'maskinporten'; // Maskinporten's target is a space-separated list
  // The cache key is the scope alone: identity provider, resource and authorization details are
  // fixed for this instance, and each texas() has its own cache. Texas keys its own cache on all
  // four (docs/protocols/texas.md), so two instances with different details never share a token either.

  return withCache(
    (scope, { forceRefresh, signal }) => {
      assertScope(scope, { allowList });
      return client.post({
        scope,
        format,
        signal,
        body: {
          identity_provider: identityProvider,
          target: scope,
          resource,
          // Texas takes the array in a JSON body, and its JSON text in a form body (TokenClient's formEncode).
          authorization_details: authorizationDetails,
          // Only when forced, so that Texas's own cache serves everything else.
          skip_cache: forceRefresh ? true : undefined,
        },
      });
    },
    { ...o, endpoint: endpoint.label, name: 'texas' },
  );
}
