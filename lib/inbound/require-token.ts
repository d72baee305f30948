import type { IncomingRequestLike } from '../context/express.js';
import type { KoaContextLike } from '../context/koa.js';
import { withRequestUserToken } from '../context/user-token.js';
import { bearerTokenOf } from '../core/bearer.js';
import { isTokenError } from '../errors.js';
import { duration, fail, optionalFunction, optionalObject } from '../options.js';
import type { IdentityProvider } from '../types.js';
import { sameProvider } from '../types.js';
import { AuthError } from './auth-error.js';
import { createIntrospection, introspection, type IntrospectionOptions, type TokenClaims, type TokenValidator } from './introspection.js';

/** What `requireToken` puts on `req.auth` (Koa: `ctx.state.auth`) for a request it let through. */
export interface RequestAuth {
  /** The identity provider that issued the caller's token. */
  readonly identityProvider: IdentityProvider;
  /** The claims of the caller's token, as Texas returned them. */
  readonly claims: TokenClaims;
}

declare global {
  // Express's Request extends Express.Request (as passport's `req.user` is typed): with express's
  // types installed, `req.auth` type-checks without a cast; without them this declares nothing used.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by axios-m2m's `requireToken()` for a request it let through. */
      auth?: RequestAuth;
    }
  }
}

/** Decides whether a caller with a valid token may go on; false answers 403 `insufficient_scope`. */
export type Authorize<Req = IncomingRequestLike> = (claims: TokenClaims, req: Req) => boolean | Promise<boolean>;

/** Options of {@link requireToken} and {@link requireTokenKoa}. Every field is optional. */
export interface RequireTokenOptions<Req = IncomingRequestLike> extends IntrospectionOptions {
  /**
   * A validator to use, e.g. one shared by several routes or apps; without it, one is created from
   * the other options ({@link introspection}).
   * @default one made from the other options
   */
  introspection?: TokenValidator | undefined;
  /**
   * Checked after the token is found active, with its claims and the request (sync or async);
   * false answers 403. Helpers: `hasRole()`, `hasScope()`, `fromApp()`. An exception goes to the
   * app's error handler as is.
   */
  authorize?: Authorize<Req> | undefined;
  /**
   * How long a client should wait after the 503 when Texas could not answer, in milliseconds, as
   * every duration in this package; the `Retry-After` header carries it rounded up to whole
   * seconds (0: no header).
   * @default 5_000
   */
  retryAfter?: number | undefined;
}

/** Express/Connect middleware that {@link requireToken} returns. */
export type RequireTokenMiddleware<Req = IncomingRequestLike> = (req: Req, res: unknown, next: (error?: unknown) => void) => void;

/** Koa middleware that {@link requireTokenKoa} returns. */
export type RequireTokenKoaMiddleware<Ctx = KoaContextLike> = (ctx: Ctx, next: () => Promise<unknown>) => Promise<unknown>;

const DEFAULT_RETRY_AFTER = 5_000;

/** The request-independent half: header in, auth and token out, or an AuthError. */
function authenticator<Req>(options: RequireTokenOptions<Req> | undefined, what: string) {
  const o = optionalObject(`${what} options`, options);
  const authorize = optionalFunction<Authorize<Req>>('authorize', o.authorize);
  const retryAfter = duration('retryAfter', o.retryAfter, DEFAULT_RETRY_AFTER);
  let validator: TokenValidator;
  if (o.introspection !== undefined) {
    if (typeof o.introspection?.validate !== 'function') fail('introspection', 'a validator from introspection()', o.introspection);
    if (o.identityProvider !== undefined && !sameProvider(o.identityProvider, o.introspection.identityProvider)) {
      throw new TypeError(`axios-m2m: ${what}: identityProvider ${o.identityProvider} differs from the validator's (${o.introspection.identityProvider})`);
    }
    validator = o.introspection;
  } else {
    validator = createIntrospection(o, what);
  }
  const identityProvider = validator.identityProvider;

  return async function authenticate(authorization: string | readonly string[] | undefined, req: Req): Promise<{ auth: RequestAuth; token: string }> {
    const token = bearerTokenOf(authorization);
    if (token === undefined) throw new AuthError('missing_token', 'no bearer token: expected Authorization: Bearer <token>');
    let result;
    try {
      result = await validator.validate(token);
    } catch (error) {
      // Texas could not answer: the token may be fine, and a 401 would make the client drop it.
      const why = isTokenError(error) ? error.message : 'the token could not be validated';
      throw new AuthError('temporarily_unavailable', `could not validate the bearer token: ${why}`, {
        cause: error,
        ...(retryAfter > 0 && { retryAfter }),
      });
    }
    if (!result.active) throw new AuthError('invalid_token', `bearer token refused: ${result.reason}`, { reason: result.reason });
    if (authorize !== undefined && (await authorize(result.claims, req)) !== true) {
      throw new AuthError('insufficient_scope', 'bearer token valid, but not allowed here');
    }
    return { auth: Object.freeze({ identityProvider, claims: result.claims }), token };
  };
}

/**
 * Express (or Connect) middleware that lets a request through only with a valid bearer token,
 * checked by Texas's introspection ({@link introspection}), and runs the rest of the request as
 * that user: `req.auth` is `{ identityProvider, claims }`, and `onBehalfOf()` exchanges the token
 * without `captureUserToken()`. Refusals are {@link AuthError}s given to `next()`, as Express's
 * error handlers expect:
 *
 * - no or malformed `Authorization: Bearer` header: 401, `WWW-Authenticate: Bearer`;
 * - token not active: 401, `WWW-Authenticate: Bearer error="invalid_token"`;
 * - `authorize` said no: 403, `WWW-Authenticate: Bearer error="insufficient_scope"`;
 * - Texas could not answer: 503 with `Retry-After`, never 401.
 *
 * The user context ends when the response closes: an exchange from code that runs in it afterwards
 * (the callback of a client whose connection this request opened, serving a later request) fails
 * with `no_user_token` instead of acting as this request's user.
 *
 * ```ts
 * app.use('/api', requireToken({ identityProvider: 'entra_id', authorize: hasRole('access_as_application') }));
 * ```
 */
export function requireToken<Req extends IncomingRequestLike = IncomingRequestLike>(options?: RequireTokenOptions<Req>): RequireTokenMiddleware<Req> {
  const authenticate = authenticator(options, 'requireToken()');
  return function requireToken(req, res, next) {
    authenticate(req.headers.authorization, req).then(
      ({ auth, token }) => {
        (req as { auth?: RequestAuth }).auth = auth;
        try {
          withRequestUserToken(token, res, () => next());
        } catch (error) {
          next(error); // as Express does when a handler throws
        }
      },
      (error: unknown) => next(error),
    );
  };
}

/**
 * Koa middleware: {@link requireToken} for Koa. A request let through gets `ctx.state.auth`
 * (`{ identityProvider, claims }`) and the downstream middleware runs as that user, so
 * `onBehalfOf()` exchanges its token. Refusals are thrown {@link AuthError}s, which Koa's default
 * error handler answers with their `status`, `headers` and (for 4xx) message.
 *
 * ```ts
 * app.use(requireTokenKoa({ identityProvider: 'tokenx' }));
 * ```
 */
export function requireTokenKoa<Ctx extends KoaContextLike = KoaContextLike>(options?: RequireTokenOptions<Ctx>): RequireTokenKoaMiddleware<Ctx> {
  const authenticate = authenticator(options, 'requireTokenKoa()');
  return async function requireTokenKoa(ctx, next) {
    const { auth, token } = await authenticate(ctx.headers.authorization, ctx);
    const state = ((ctx as { state?: Record<string, unknown> }).state ??= {});
    state.auth = auth;
    return withRequestUserToken(token, ctx.res, () => next());
  };
}
