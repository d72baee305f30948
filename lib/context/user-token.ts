import { AsyncLocalStorage } from 'node:async_hooks';
import { processWide } from './process-wide.js';

/**
 * The end user's access token for the request being handled, kept in an `AsyncLocalStorage` so
 * that one axios instance, attached once at start-up, sees the right user in every concurrent
 * request: each request's handling (its promises, timers and callbacks) carries its own context.
 *
 * The store is an object, not the bare string, so that a context started without a token (a
 * request without `Authorization: Bearer`) can hide a token of an outer context. Node hangs the
 * store on every async resource created in the context (sockets, timers, promises) under a symbol,
 * and an AxiosError reaches those (`err.request.socket[Symbol(timeout)][Symbol(kResourceStore)]`):
 * so the token sits in a private field, which `util.inspect` at any depth, `JSON.stringify` and a
 * walk of properties cannot see. Only {@link UserContext.tokenOf} reads it, and nothing exports it.
 */
class UserContext {
  readonly #token: string | undefined;
  /** Set once the request this context was entered for has ended (see {@link withRequestUserToken}). */
  #ended = false;
  constructor(token: string | undefined) {
    this.#token = token;
  }
  /** From now on the context serves no token: its request is over, and whoever runs in it is someone else. */
  static end(context: UserContext): void {
    context.#ended = true;
  }
  static tokenOf(context: UserContext | undefined): string | undefined {
    return context === undefined || context.#ended ? undefined : context.#token;
  }
  static isEnded(context: UserContext | undefined): boolean {
    return context !== undefined && context.#ended;
  }
}

/**
 * The storage and the class of its stores, one per process (see process-wide.ts): the copy that
 * loads first makes both, and every copy reads and writes contexts through them, so a context
 * entered through the CommonJS build is the one the ESM build's onBehalfOf() sees. The class is
 * shared too, since a private field can be read only by the class that declared it. Version 2:
 * a context that can end (version 1 had no such state, and a copy of it would serve an ended one).
 */
const shared = processWide('user-context', 2, () => ({ storage: new AsyncLocalStorage<UserContext>(), Context: UserContext }));
const { storage, Context } = shared;

/** `Authorization` scheme prefix, case-insensitive (RFC 7235), with the spaces after it (or alone). */
const BEARER = /^bearer(?:[ \t]+|$)/i;

/**
 * The token without a `Bearer ` prefix, trimmed; `undefined` for an empty one. Texas takes the
 * bare token and does not strip the prefix itself (docs/protocols/texas.md, "Exchange on behalf of
 * a user").
 */
function bareToken(value: string): string | undefined {
  const token = value.trim().replace(BEARER, '').trim();
  return token === '' ? undefined : token;
}

// The one Bearer-header rule, shared with requireToken() and introspection().
export { bearerTokenOf } from '../core/bearer.js';

/**
 * Runs `fn` with `token` as the current user's token: every on-behalf-of exchange that `fn`'s
 * work causes (synchronously or later, through promises and callbacks) uses it. For frameworks
 * without a middleware here, queue consumers and jobs. A `Bearer ` prefix is accepted and dropped.
 * An empty or missing token runs `fn` without a user token (an exchange then fails with
 * `no_user_token`).
 *
 * ```ts
 * await withUserToken(message.userToken, () => api.get('/things'));
 * ```
 */
export function withUserToken<T>(token: string | undefined, fn: () => T): T {
  if (token !== undefined && typeof token !== 'string') {
    throw new TypeError(`axios-m2m: expected token to be a string, got ${token === null ? 'null' : typeof token}`);
  }
  if (typeof fn !== 'function') throw new TypeError(`axios-m2m: expected fn to be a function, got ${typeof fn}`);
  return storage.run(new Context(token === undefined ? undefined : bareToken(token)), fn);
}

/**
 * The current user's token (without `Bearer `), or `undefined` outside of a user's context, and in
 * the context of a request that has ended: code that runs there (a callback of a client connected
 * during that request) serves someone else, never that request's user.
 */
export function currentUserToken(): string | undefined {
  return Context.tokenOf(storage.getStore());
}

/**
 * Whether the code running now is in the user context of a request that has ended: the reason
 * {@link currentUserToken} returns `undefined` there, for an error message that names it.
 */
export function inEndedUserContext(): boolean {
  return Context.isEnded(storage.getStore());
}

/** The part of a response the middlewares watch: Node's `ServerResponse` has it. */
export interface ResponseLike {
  /** Registers `listener` for the response's `close` (answered, or the client went away). */
  once(event: 'close', listener: () => void): unknown;
}

/**
 * {@link withUserToken} for one incoming request: the context ends when `res` closes (answered,
 * or the client went away). Async resources created while handling the request (a socket a client
 * library opens lazily, an event emitter, a pool's connection) keep the context they were created
 * in and run their callbacks in it long after, on behalf of later requests of other users: once
 * ended, it serves no token, so such a callback fails with `no_user_token` instead of acting as
 * the user who happened to open the connection. A `res` without `once` (a framework's stand-in)
 * leaves the context open, as withUserToken does.
 */
export function withRequestUserToken<T>(token: string | undefined, res: unknown, fn: () => T): T {
  const context = new Context(token === undefined ? undefined : bareToken(token));
  const response = res as Partial<ResponseLike> | null | undefined;
  if (typeof response?.once === 'function') response.once('close', () => Context.end(context));
  return storage.run(context, fn);
}
