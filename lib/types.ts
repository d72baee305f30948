/**
 * An access token and the moment it stops being valid.
 *
 * Treat it as read-only: cached sources hand the same object to every caller.
 */
export interface AccessToken {
  /** The bearer token, exactly as the token endpoint issued it. */
  readonly token: string;
  /** When the token expires, in epoch milliseconds (the moment the token request was sent plus `expires_in`). */
  readonly expiresAt: number;
  /**
   * When the issuer asks for a new token, in epoch milliseconds, if it said so: Entra ID's
   * `refresh_in` (sent with long-lived tokens) counted from the moment the request was sent. The
   * cache starts its refresh ahead no later than this (and no later than its own rule); the token
   * stays in use until then and after, while the refresh runs. A custom source may set it too.
   */
  readonly refreshAt?: number | undefined;
}

/** Options for one {@link TokenSource.getToken} call. */
export interface GetTokenOptions {
  /**
   * Ignore any cached token and fetch a new one (Texas: `skip_cache: true`). Concurrent forced
   * refreshes for one scope share a single fetch.
   */
  forceRefresh?: boolean | undefined;
  /**
   * Ends this caller's wait only. A fetch that other callers share keeps going (it has its own
   * timeout); the call rejects with `signal.reason`.
   */
  signal?: AbortSignal | undefined;
  /**
   * The end user's token to act for (with or without `Bearer `), from the request option
   * `token: { user }`: a source that acts on behalf of a user (`onBehalfOf()`) uses it in place of
   * the async context's user. Other sources ignore it.
   */
  user?: string | undefined;
}

/**
 * Where tokens come from: anything with this shape plugs into `attachToken()`.
 *
 * Contract (as Go's `oauth2.TokenSource`): safe to call concurrently; the returned token must not
 * be changed by the caller; failures reject with a `TokenError`.
 */
export interface TokenSource {
  /**
   * A token for `scope`, valid for a while yet.
   * @param scope - what the token is for (Entra ID: `api://<cluster>.<namespace>.<app>/.default`)
   * @param options - a forced refresh, and the caller's own abort signal
   */
  getToken(scope: string, options?: GetTokenOptions): Promise<AccessToken>;
}

/**
 * A bare fetcher: one call, one upstream token request, no caching. {@link withCache} turns it into
 * a cached, single-flight {@link TokenSource}.
 */
export type FetchToken = (scope: string, options: GetTokenOptions) => Promise<AccessToken>;

/**
 * Every identity provider the package names, as Texas names them (the `identity_provider` field of
 * its requests). `azuread` is the older name of `entra_id` and means the same provider. Not every
 * provider is served by every Texas endpoint: see {@link IdentityProviderFor}.
 */
export const IDENTITY_PROVIDERS = ['entra_id', 'azuread', 'tokenx', 'idporten', 'maskinporten'] as const;

/** One of {@link IDENTITY_PROVIDERS}. */
export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number];

/**
 * Texas's three endpoints, by what they do: `token` (`/api/v1/token`, tokens for the app itself),
 * `exchange` (`/api/v1/token/exchange`, on behalf of a user) and `introspect` (`/api/v1/introspect`,
 * validation of an incoming token).
 */
export type TexasEndpoint = 'token' | 'exchange' | 'introspect';

/**
 * The identity providers one Texas endpoint takes (docs/protocols/texas.md): `token` serves
 * `entra_id` (`azuread`) and `maskinporten`, `exchange` serves `entra_id` (`azuread`) and `tokenx`,
 * `introspect` checks tokens of every provider.
 */
export type IdentityProviderFor<E extends TexasEndpoint> = E extends 'token'
  ? 'entra_id' | 'azuread' | 'maskinporten'
  : E extends 'exchange'
    ? 'entra_id' | 'azuread' | 'tokenx'
    : IdentityProvider;

const PROVIDERS_FOR: { readonly [E in TexasEndpoint]: readonly IdentityProviderFor<E>[] } = {
  token: ['entra_id', 'azuread', 'maskinporten'],
  exchange: ['entra_id', 'azuread', 'tokenx'],
  introspect: IDENTITY_PROVIDERS,
};

/** The provider an identity-provider name means: `azuread` is `entra_id`, every other name itself. */
export function sameProvider(a: string, b: string): boolean {
  const canonical = (provider: string) => (provider === 'azuread' ? 'entra_id' : provider);
  return canonical(a) === canonical(b);
}

/** The identity providers one Texas endpoint takes, in the order of {@link IDENTITY_PROVIDERS}. */
export function identityProvidersFor<E extends TexasEndpoint>(endpoint: E): readonly IdentityProviderFor<E>[] {
  return PROVIDERS_FOR[endpoint];
}
