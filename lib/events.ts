import diagnosticsChannel from 'node:diagnostics_channel';
import type { TokenErrorCode } from './errors.js';
import type { IdentityProvider } from './types.js';

// Every event this package publishes, on Node's diagnostics_channel (as undici does): the package
// chooses no logger or metrics library, and a publish costs nothing unless someone subscribes.
// Messages carry no secret and no token: scopes, source names, endpoint origin and path, outcomes,
// durations and error codes only. Subscribers must not throw.

/**
 * What a source is, in events: `texas`, `client_credentials`, `on_behalf_of`, `custom` (a
 * `withCache` without a `name`), or the `name` given to `withCache`.
 */
export type SourceName = string;

/** `axios-m2m:token:served`: a caller got a token, from the cache or after waiting for a fetch. */
export interface TokenServedEvent {
  /** The scope the token is for. */
  scope: string;
  /** The source's name in events (`withCache`'s `name`). */
  source: SourceName;
  /** True when no fetch was waited for. */
  fromCache: boolean;
  /** How long the caller waited, in milliseconds (0 from the cache). */
  duration: number;
}

/** `axios-m2m:token:request`: one upstream token request (retries included) ended. */
export interface TokenRequestEvent {
  /** The scope the token is for. */
  scope: string;
  /** The source's name in events (`withCache`'s `name`). */
  source: SourceName;
  /** Origin and path of the token endpoint, when the source has one. */
  endpoint?: string;
  /** Why it was made: no usable token, a refresh ahead of expiry, or a forced refresh after a 401. */
  reason: 'miss' | 'ahead' | 'forced';
  /** How long the request took, retries and waits included, in milliseconds. */
  duration: number;
  /** Whether it got a token. */
  outcome: 'ok' | 'error';
  /** With `error`: the TokenError's code (`unknown` for an error that is not a TokenError). */
  code?: TokenErrorCode;
  /** With `error`: the HTTP status, when there was one. */
  status?: number;
  /** With `ok`: the token's lifetime from the moment the request was sent, in milliseconds. */
  lifetime?: number;
}

/** `axios-m2m:refresh:start`: a refresh began while a token was still served, or was forced by a 401. */
export interface RefreshStartEvent {
  /** The scope the token is for. */
  scope: string;
  /** The source's name in events (`withCache`'s `name`). */
  source: SourceName;
  /** Ahead of expiry, or forced by an API's refusal. */
  reason: 'ahead' | 'forced';
}

/** `axios-m2m:refresh:error`: a background refresh failed; the current token keeps serving. */
export interface RefreshErrorEvent {
  /** The scope the token is for. */
  scope: string;
  /** The source's name in events (`withCache`'s `name`). */
  source: SourceName;
  /** The TokenError's code (`unknown` for an error that is not a TokenError). */
  code: TokenErrorCode;
  /** The HTTP status, when there was one. */
  status?: number;
}

/** `axios-m2m:request:retry`: a request was refused (401) and is re-sent once with another token. */
export interface RetryEvent {
  /** The scope of the refused token. */
  scope: string;
  /** The refusing status. */
  status: number;
  /** The request's method, upper case. */
  method: string;
  /** The request's path, without query string. */
  path: string;
  /** Whether the token had to be fetched anew (false: it had already been replaced). */
  refreshed: boolean;
  /** How long getting the other token took, in milliseconds, from the refusal to the re-send. */
  duration: number;
}

/**
 * `axios-m2m:introspection:validate`: one `validate()` of an incoming token ended (every request that
 * `requireToken` handles makes one). Never the token or its claims.
 */
export interface IntrospectionEvent {
  /** The identity provider asked about (`entra_id`, `tokenx`, ...). */
  identityProvider: IdentityProvider;
  /** Origin and path of Texas's introspection endpoint. */
  endpoint?: string;
  /** True when the answer came from the validator's cache, without waiting for Texas. */
  fromCache: boolean;
  /** How long the caller waited, in milliseconds (0 from the cache). */
  duration: number;
  /** `active` and `inactive` are Texas's answer; `error` means Texas could not answer. */
  outcome: 'active' | 'inactive' | 'error';
  /** With `error`: the TokenError's code (`unknown` for an error that is not a TokenError). */
  code?: TokenErrorCode;
  /** With `error`: the HTTP status, when there was one. */
  status?: number;
}

/** Channel names and their message types. */
export interface Events {
  /** {@inheritDoc TokenServedEvent} */
  'axios-m2m:token:served': TokenServedEvent;
  /** {@inheritDoc TokenRequestEvent} */
  'axios-m2m:token:request': TokenRequestEvent;
  /** {@inheritDoc RefreshStartEvent} */
  'axios-m2m:refresh:start': RefreshStartEvent;
  /** {@inheritDoc RefreshErrorEvent} */
  'axios-m2m:refresh:error': RefreshErrorEvent;
  /** {@inheritDoc RetryEvent} */
  'axios-m2m:request:retry': RetryEvent;
  /** {@inheritDoc IntrospectionEvent} */
  'axios-m2m:introspection:validate': IntrospectionEvent;
}

/** A channel's name, `axios-m2m:<area>:<event>`. */
export type EventName = keyof Events;

// The compiler keeps this list in step with `Events`.
const names: { [K in EventName]: K } = {
  'axios-m2m:token:served': 'axios-m2m:token:served',
  'axios-m2m:token:request': 'axios-m2m:token:request',
  'axios-m2m:refresh:start': 'axios-m2m:refresh:start',
  'axios-m2m:refresh:error': 'axios-m2m:refresh:error',
  'axios-m2m:request:retry': 'axios-m2m:request:retry',
  'axios-m2m:introspection:validate': 'axios-m2m:introspection:validate',
};

/** Every channel name, for subscribers that want them all. */
export const EVENT_NAMES = Object.values(names) as readonly EventName[];

export const channels: { readonly [K in EventName]: diagnosticsChannel.Channel } = Object.fromEntries(
  EVENT_NAMES.map((name) => [name, diagnosticsChannel.channel(name)]),
) as { [K in EventName]: diagnosticsChannel.Channel };

/** Publishes only when someone listens, so that building the message costs nothing otherwise. */
export function publish<K extends EventName>(name: K, message: () => Events[K]): void {
  const channel = channels[name];
  if (channel.hasSubscribers) channel.publish(message());
}

/**
 * Subscribes to one channel with a typed listener; returns the function that unsubscribes.
 * Same as `diagnostics_channel.subscribe(name, listener)`.
 */
export function subscribe<K extends EventName>(name: K, listener: (message: Events[K]) => void): () => void {
  const handler = (message: unknown) => listener(message as Events[K]);
  diagnosticsChannel.subscribe(name, handler);
  return () => diagnosticsChannel.unsubscribe(name, handler);
}
