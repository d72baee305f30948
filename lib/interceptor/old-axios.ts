// Workarounds for axios releases inside the peer range (>=1.7 <2) that behave differently from the
// current one, kept apart from the two interceptor handlers so that each can go when the range
// drops the release that needs it. Each says which releases need it and why.

import type { AccessToken } from '../types.js';
import type { RedactionNote } from './redact-error.js';

/**
 * Whether this axios honours `allowAbsoluteUrls: false` everywhere. The option came in 1.8.0, and the
 * http adapter followed it only from 1.8.2 (CVE-2025-27152); an older axios sends an absolute URL
 * to its own origin whatever the option says, so the option must not make us give it the token.
 */
export function honoursAllowAbsoluteUrls(version: string | undefined): boolean {
  const [major = 0, minor = 0, patch = 0] = (version ?? '').split('.').map((part) => Number.parseInt(part, 10));
  return major > 1 || (major === 1 && (minor > 8 || (minor === 8 && patch >= 2)));
}

/**
 * The last tokens an interceptor attached. axios before 1.21 drops symbol keys when it merges a
 * config, so a config re-sent through the instance (a user's interceptor, with `token: false` or
 * to another origin) arrives without our record but with the copied headers, our `Authorization`
 * among them: it is recognised by its value. Bounded, so a rotating token does not grow it. Each
 * token keeps what an error shows in its place (its scope and expiry), since the error that needs
 * it may come from a config whose record axios dropped.
 */
export class RecentTokens {
  static readonly #MAX = 16;
  readonly #tokens = new Map<string, RedactionNote>();
  /** Per request: the cached token is the same string each time, so the lookup hashes nothing new. */
  add(token: AccessToken, scope: string): void {
    if (this.#tokens.has(token.token)) return;
    this.#tokens.set(token.token, { scope, expiresAt: token.expiresAt });
    if (this.#tokens.size > RecentTokens.#MAX) this.#tokens.delete(this.#tokens.keys().next().value!);
  }
  has(token: string): boolean {
    return this.#tokens.has(token);
  }
  noteOf(token: string): RedactionNote | undefined {
    return this.#tokens.get(token);
  }
}
