import { bearerTokenOf, withRequestUserToken, type ResponseLike } from './user-token.js';

// Written against the few members it uses, not koa's types: koa is not a dependency of this package.

/** The part of a Koa context the middleware reads (`ctx.headers` is the request's headers). */
export interface KoaContextLike {
  /** The request's headers; only `authorization` is read. */
  readonly headers: {
    /** The `Authorization` header: the user's token after `Bearer `. */
    readonly authorization?: string | readonly string[] | undefined;
  };
  /** Node's response (Koa's `ctx.res`): the user context ends when it closes. */
  readonly res?: ResponseLike | undefined;
}

/** Koa middleware: `(ctx, next) => Promise`. */
export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<unknown>;

/**
 * Koa middleware that makes the request's `Authorization: Bearer …` token the current user token
 * for the downstream middleware, so that `attachToken(api, { source: onBehalfOf(), scope })`
 * exchanges that user's token. A request without a bearer token passes through untouched, without
 * a user token.
 *
 * ```ts
 * app.use(captureUserTokenKoa());
 * ```
 *
 * It does not check the token: authenticate the request as you do today (Texas's exchange refuses
 * an invalid or expired one). The user context ends when the response (`ctx.res`) closes, as
 * {@link captureUserToken}'s does.
 */
export function captureUserTokenKoa(): KoaMiddleware {
  return function captureUserTokenKoa(ctx, next) {
    // `next()`'s promise chain, and everything downstream awaits, runs inside this context.
    return withRequestUserToken(bearerTokenOf(ctx.headers.authorization), ctx.res, () => next());
  };
}
