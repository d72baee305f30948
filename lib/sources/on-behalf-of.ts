import { digestOf } from '../core/digest.js';
import { decodeJwt } from '../http/decode-jwt.js';
import { withCache, type CachedTokenSource, type SourceCacheOptions } from '../cache/with-cache.js';
import { currentUserToken, inEndedUserContext, withUserToken } from '../context/user-token.js';
import { TokenError } from '../errors.js';
import { parseEndpoint } from '../http/endpoint.js';
import { TokenClient, type HttpOptions } from '../http/token-client.js';
import { assertScope, count, describeValue, fail, forMessage, identityProviderOption, optionalObject, optionalString } from '../options.js';
import type { AccessToken, GetTokenOptions, IdentityProviderFor } from '../types.js';

/**
 * Identity providers that Texas's `/api/v1/token/exchange` serves.
 * @deprecated Use `IdentityProviderFor<'exchange'>` (the same type).
 */
export type ExchangeIdentityProvider = IdentityProviderFor<'exchange'>;

/** Options of {@link onBehalfOf}. Every field is optional. */
export interface OnBehalfOfOptions extends SourceCacheOptions, HttpOptions {
  /** Texas's exchange endpoint. @default process.env.NAIS_TOKEN_EXCHANGE_ENDPOINT */
  endpoint?: string | undefined;
  /**
   * `entra_id` (scope `api://<cluster>.<namespace>.<app>/.default`) or `tokenx`
   * (target `<cluster>:<namespace>:<app>`).
   * @default 'entra_id'
   */
  identityProvider?: IdentityProviderFor<'exchange'> | undefined;
  /**
   * Most exchanged tokens kept (one per user and scope); the oldest written is evicted first, and
   * costs one more exchange (Texas answers it from its own cache) if that user comes back.
   * @default 1_000
   */
  maxEntries?: number | undefined;
  /** How the request body is encoded; Texas takes both. @default 'json' */
  bodyFormat?: 'json' | 'form' | undefined;
}

/** Enough for a busy pod's users within one token lifetime, and at most a few MB of tokens. */
export const DEFAULT_MAX_USERS = 1_000;

/** How long past its `exp` Texas still takes a user token, in ms. */
const TEXAS_LEEWAY = 60_000;

/**
 * Tokens for calling an API on behalf of the current user: Texas exchanges the user's token
 * (from {@link captureUserToken}, {@link captureUserTokenKoa} or {@link withUserToken}) for one
 * scoped to the target API (`POST /api/v1/token/exchange`).
 *
 * - One cache entry per (user token, scope), keyed by a SHA-256 digest: the raw token is never a key.
 * - A cached token expires no later than the user's own token (its JWT `exp`, plus the 60 s of
 *   leeway Texas gives it).
 * - A forced refresh (after a 401) sends `skip_cache: true`.
 * - The user is the request's own `token: { user }` when it has one (`options.user` of
 *   `getToken`), else the async context's.
 * - Outside of a user's context, or in the context of a request that has ended (a callback of a
 *   client connected during another request): a `TokenError` with code `no_user_token`, and no request.
 */
export function onBehalfOf(options?: OnBehalfOfOptions): CachedTokenSource {
  const o = optionalObject('onBehalfOf() options', options);
  const endpoint = parseEndpoint(
    optionalString('endpoint', o.endpoint) ?? process.env.NAIS_TOKEN_EXCHANGE_ENDPOINT,
    'onBehalfOf(): the token exchange endpoint (option endpoint or NAIS_TOKEN_EXCHANGE_ENDPOINT)',
    { allowInsecure: o.allowInsecure },
  );
  const identityProvider = identityProviderOption(o.identityProvider, 'exchange');
  const format = o.bodyFormat ?? 'json';
  if (format !== 'json' && format !== 'form') fail('bodyFormat', "'json' or 'form'", format);
  const maxEntries = count('maxEntries', o.maxEntries, DEFAULT_MAX_USERS, 1);
  const client = new TokenClient(endpoint, o);

  function noUserToken(scope: string, given?: 'explicit'): TokenError {
    const why = given
      ? 'and the user given with the request (token: { user }) is empty'
      : inEndedUserContext()
        ? // A callback of something created during another request (a pooled or lazily connected
          // client, an event emitter) runs in that request's context: its user is not this caller.
          'and the user context here belongs to a request that has ended (a callback of a client connected, or an event emitter created, ' +
          "during another request runs in that request's context): pass the user with the request, token: { user }, " +
          'bind the callback to this request with AsyncResource.bind(), or use a promise-based client'
        : 'and there is none here: run the call inside captureUserToken(), captureUserTokenKoa() or withUserToken(), for a request with Authorization: Bearer';
    return new TokenError('no_user_token', `token exchange for ${forMessage(scope)} needs the user's token, ${why}`, {
      scope,
      endpoint: endpoint.label,
    });
  }

  async function exchange(scope: string, { forceRefresh, signal }: GetTokenOptions): Promise<AccessToken> {
    assertScope(scope);
    // withCache runs this in the async context of the caller that started the fetch; callers that
    // join it have the same cache key, hence the same user token.
    const userToken = currentUserToken();
    if (userToken === undefined) throw noUserToken(scope);
    const token = await client.post({
      scope,
      format,
      signal,
      secrets: [userToken], // scrubbed from anything Texas echoes back into an error
      body: {
        identity_provider: identityProvider,
        target: scope,
        user_token: userToken,
        // Only when forced: Texas's own cache (keyed by user token) serves everything else.
        skip_cache: forceRefresh ? true : undefined,
      },
    });
    // Texas takes a user token up to 60 s past its `exp` (docs/protocols/texas.md): the exchanged
    // token is served as long as Texas would exchange the user token again, not a moment less, so
    // a user token inside that leeway is not exchanged anew on every request.
    const userExpiresAt = expiryOf(userToken) + TEXAS_LEEWAY;
    return userExpiresAt < token.expiresAt ? { token: token.token, expiresAt: userExpiresAt } : token;
  }

  const cache = withCache(exchange, {
    ...o,
    maxEntries,
    endpoint: endpoint.label,
    name: 'on_behalf_of',
    // Read in the caller's context: getToken below has already checked there is a user token.
    cacheKey: (scope) => cacheKeyOf(currentUserToken() ?? '', scope),
  });

  return {
    getToken(scope, getOptions) {
      // Before the cache key is computed: a scope that is not a string would reach createHash
      // (Node's ERR_INVALID_ARG_TYPE). A typeof here, the full check before an exchange.
      if (typeof scope !== 'string') {
        try {
          assertScope(scope);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      // The request's own user wins over the context's: a callback of a client connected during
      // another request runs in that request's context, and the caller knows better whose call
      // this is. The cache key and the exchange read it from a context of its own.
      const user = getOptions?.user;
      if (user !== undefined) {
        if (typeof user !== 'string') {
          return Promise.reject(new TypeError(`axios-m2m: expected options.user to be the user's token (a string), got ${describeValue(user)}`));
        }
        return withUserToken(user, () => {
          if (currentUserToken() === undefined) return Promise.reject(noUserToken(scope, 'explicit'));
          return cache.getToken(scope, getOptions);
        });
      }
      // Before the cache and before any request: no user, no exchange.
      if (currentUserToken() === undefined) return Promise.reject(noUserToken(scope));
      return cache.getToken(scope, getOptions);
    },
    get size() {
      return cache.size;
    },
    clear() {
      cache.clear();
    },
  };
}

/**
 * The cache key of a (user token, scope) pair: a digest, so that no user token sits in a key that
 * a heap dump, a debugger or a future log line could show ({@link digestOf}, the package's one
 * key function).
 */
export function cacheKeyOf(userToken: string, scope: string): string {
  return digestOf(userToken, scope);
}

/** When the user's token expires (its JWT `exp`, in ms), or `Infinity` for an opaque token. */
function expiryOf(userToken: string): number {
  try {
    const { exp } = decodeJwt(userToken);
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : Infinity;
  } catch {
    return Infinity; // not a JWT (TokenX and Entra ID tokens are; an opaque one has no exp to read)
  }
}
