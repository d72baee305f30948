/**
 * Machine-to-machine bearer tokens for axios: token sources (Texas, Entra ID client credentials,
 * workload identity, on behalf of a user), the cache they share, the interceptor, and the
 * middleware that checks incoming tokens.
 * @module axios-m2m
 */
export {
  IDENTITY_PROVIDERS,
  type AccessToken,
  type FetchToken,
  type GetTokenOptions,
  type IdentityProvider,
  type IdentityProviderFor,
  type TexasEndpoint,
  type TokenSource,
} from './types.js';
export {
  TokenError,
  isTokenError,
  LOCAL_ERROR_CODES,
  OAUTH_ERROR_CODES,
  type LocalErrorCode,
  type OAuthErrorCode,
  type TokenErrorCode,
  type TokenErrorDetails,
} from './errors.js';
export { withCache, type CacheOptions, type CachedTokenSource, type SourceCacheOptions } from './cache/with-cache.js';
export type { HttpOptions } from './http/token-client.js';
export type { ProxyOptions } from './http/proxy.js';
export { texas, type TexasOptions, type TexasIdentityProvider } from './sources/texas.js';
export { clientCredentials, type ClientCredentialsOptions, type ClientAssertionContext } from './sources/client-credentials.js';
export { workloadIdentity, type WorkloadIdentityOptions } from './sources/workload-identity.js';
export type { CertificateCredential, PrivateKeyObject } from './sources/certificate.js';
export { fromEnv, type FromEnvOptions, type TokenEnvironment } from './sources/from-env.js';
export type { TokenRequestOptions } from './interceptor/augment.js';
export { tokenInterceptor, type ScopeOption, type TokenInterceptor, type TokenInterceptorOptions } from './interceptor/token-interceptor.js';
export { attachToken } from './interceptor/attach-token.js';
export { tokenProvider, type TokenProvider } from './sdk/token-provider.js';
export {
  EVENT_NAMES,
  subscribe,
  type EventName,
  type Events,
  type IntrospectionEvent,
  type RefreshErrorEvent,
  type RefreshStartEvent,
  type RetryEvent,
  type SourceName,
  type TokenRequestEvent,
  type TokenServedEvent,
} from './events.js';
export { onBehalfOf, type OnBehalfOfOptions, type ExchangeIdentityProvider } from './sources/on-behalf-of.js';
export { withUserToken, currentUserToken, type ResponseLike } from './context/user-token.js';
export { captureUserToken, type ConnectMiddleware, type IncomingRequestLike } from './context/express.js';
export { captureUserTokenKoa, type KoaMiddleware, type KoaContextLike } from './context/koa.js';
export {
  introspection,
  type IntrospectionIdentityProvider,
  type IntrospectionOptions,
  type IntrospectionResult,
  type TokenClaims,
  type TokenValidator,
} from './inbound/introspection.js';
export {
  requireToken,
  requireTokenKoa,
  type Authorize,
  type RequestAuth,
  type RequireTokenKoaMiddleware,
  type RequireTokenMiddleware,
  type RequireTokenOptions,
} from './inbound/require-token.js';
export { hasRole, hasScope, fromApp, type ClaimsCheck } from './inbound/authorize.js';
export { AuthError, isAuthError, AUTH_ERROR_CODES, type AuthErrorCode, type AuthErrorDetails } from './inbound/auth-error.js';
