// Checks for options, run once when a source or interceptor is created. Wrong calls in code are
// TypeErrors thrown at once ("expected X to be Y, got Z"), as undici's interceptors do; missing
// configuration from the environment is a TokenError with code `configuration` (see sources/).

import { identityProvidersFor, type IdentityProviderFor, type TexasEndpoint } from './types.js';

/** Longest value quoted in a TypeError's message; longer ones are cut, with their length said. */
const QUOTED_LENGTH = 40;
/** Longest scope or endpoint quoted in an error message (a TokenError's fields keep them whole). */
const MESSAGE_VALUE_LENGTH = 100;

/**
 * A scope or an endpoint as error messages show it: whole up to 100 characters, cut beyond with its
 * length said, so that a 100 KB value never makes a 100 KB message. Every message that names a
 * scope ("token request for <scope> failed: …") goes through this.
 */
export function forMessage(text: unknown): string {
  const value = String(text);
  return value.length > MESSAGE_VALUE_LENGTH ? `${value.slice(0, MESSAGE_VALUE_LENGTH)}… (${value.length} characters)` : value;
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return value.length > QUOTED_LENGTH ? `${JSON.stringify(`${value.slice(0, QUOTED_LENGTH)}…`)} (${value.length} characters)` : JSON.stringify(value);
  }
  if (value === null || Array.isArray(value)) return value === null ? 'null' : 'an array';
  if (typeof value === 'object') return 'an object';
  // A function's text is its source: nothing a message about a wrong option should carry.
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || typeof value === 'symbol') {
    return `${typeof value} ${String(value)}`;
  }
  return 'undefined';
}

function problem(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`axios-m2m: expected ${name} to be ${expected}, got ${describeValue(value)}`);
}

export function fail(name: string, expected: string, value: unknown): never {
  throw problem(name, expected, value);
}

export function optionalObject<T extends object>(name: string, value: T | undefined): T {
  if (value === undefined) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(name, 'an object', value);
  return value;
}

/** A duration in milliseconds: finite, at least `min`. */
export function duration(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    fail(name, `a number of milliseconds >= ${min}`, value);
  }
  return value;
}

export function count(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(name, `an integer >= ${min}`, value);
  return value;
}

export function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(name, 'a string', value);
  return value;
}

export function optionalFunction<F extends (...args: never[]) => unknown>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(name, 'a function', value);
  return value as F;
}

/**
 * The `identityProvider` option of a source or validator for one Texas endpoint: `entra_id` when
 * not given, else one that endpoint takes.
 */
export function identityProviderOption<E extends TexasEndpoint>(value: unknown, endpoint: E): IdentityProviderFor<E> {
  if (value === undefined) return 'entra_id' as IdentityProviderFor<E>;
  const providers = identityProvidersFor(endpoint);
  if (!(providers as readonly unknown[]).includes(value)) fail('identityProvider', `one of ${providers.join(', ')}`, value);
  return value as IdentityProviderFor<E>;
}

/** Longest scope taken: far beyond any real one (a Maskinporten list of 50 scopes), short of abuse. */
export const MAX_SCOPE_LENGTH = 2_048;
const SCOPE = /^[\x21-\x7e]+$/;
const SCOPE_LIST = /^[\x21-\x7e]+( [\x21-\x7e]+)*$/;

/**
 * What is wrong with `scope`, as the TypeError to reject with, or undefined when it is fine.
 * A scope as the token endpoints take it: non-empty printable ASCII of at most
 * {@link MAX_SCOPE_LENGTH} characters. With `allowList` (the rule `withCache` applies to every
 * source), single spaces may separate items, as Maskinporten takes a space-separated list; without
 * (Entra ID, which takes exactly one `/.default` resource), whitespace is a mistake.
 */
export function scopeProblem(scope: unknown, { allowList = false } = {}): TypeError | undefined {
  const expected = allowList ? 'printable ASCII scopes separated by single spaces' : 'a non-empty string without whitespace';
  if (typeof scope === 'string' && scope.length > MAX_SCOPE_LENGTH) {
    return problem('scope', `${expected}, at most ${MAX_SCOPE_LENGTH} characters`, scope);
  }
  if (typeof scope !== 'string' || !(allowList ? SCOPE_LIST : SCOPE).test(scope)) return problem('scope', expected, scope);
  return undefined;
}

/** Throws {@link scopeProblem}'s TypeError, if any. */
export function assertScope(scope: unknown, { allowList = false } = {}): asserts scope is string {
  const error = scopeProblem(scope, { allowList });
  if (error) throw error;
}
