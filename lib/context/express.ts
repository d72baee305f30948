import { bearerTokenOf, withUserToken } from './user-token.js';

// Written against the few members it uses, not express's types: express is not a dependency of
// this package, and any connect-style framework (connect, polka, Node's own http) fits this shape.

/** The part of an incoming request the middleware reads (Node's `IncomingMessage` has it). */
export interface IncomingRequestLike {
  /** The request's headers; only `authorization` is read. */
  readonly headers: { readonly authorization?: string | readonly string[] | undefined };
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
 */
export function captureUserToken(): ConnectMiddleware {
  return function captureUserToken(req, _res, next) {
    // A request without a token still gets its own context: it must never see another's token.
    withUserToken(bearerTokenOf(req.headers.authorization), () => next());
  };
}
