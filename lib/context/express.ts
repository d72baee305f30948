import { bearerTokenOf, withRequestUserToken } from './user-token.js';

// Written against the few members it uses, not express's types: express is not a dependency of
// this package, and any connect-style framework (connect, polka, Node's own http) fits this shape.

/** The part of an incoming request the middleware reads (Node's `IncomingMessage` has it). */
export interface IncomingRequestLike {
  /** The request's headers; only `authorization` is read. */
  readonly headers: {
    /** The `Authorization` header: the user's token after `Bearer `. */
    readonly authorization?: string | readonly string[] | undefined;
  };
}

/** Connect-style middleware: `(req, res, next)`. */
export type ConnectMiddleware = (req: IncomingRequestLike, res: unknown, next: (error?: unknown) => void) => void;

/**
 * Express (or connect) middleware that makes the request's `Authorization: Bearer …` token the
 * current user token for everything that handles the request afterwards, so that
 * `attachToken(api, { source: onBehalfOf(), scope })` exchanges that user's token.
 * A request without a bearer token passes through untouched, without a user token.
 *
 * ```ts
 * app.use(captureUserToken());
 * ```
 *
 * Register it before the routes that call APIs on behalf of the user. It does not check the token:
 * authenticate the request as you do today (Texas's exchange refuses an invalid or expired one).
 *
 * The user context ends when the response closes: code that runs in it afterwards (a callback of a
 * client whose connection this request opened, now serving another request) gets no user token,
 * and an exchange there fails with `no_user_token` rather than acting as this request's user.
 */
export function captureUserToken(): ConnectMiddleware {
  return function captureUserToken(req, res, next) {
    // A request without a token still gets its own context: it must never see another's token.
    withRequestUserToken(bearerTokenOf(req.headers.authorization), res, () => next());
  };
}
