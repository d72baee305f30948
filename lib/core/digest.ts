import { createHash } from 'node:crypto';

// The one way the package turns a secret into a map key: the on-behalf-of cache keys a (user
// token, scope) pair, the introspection cache a caller's token. A digest rather than the token, so
// no bearer token sits in a key that a heap dump, a debugger or a future log line could show.

/** Characters of base64url kept: 22 of them carry 132 bits, so two keys never collide in practice. */
const KEY_LENGTH = 22;

/**
 * The key of `parts`: SHA-256 over the parts joined by NUL, base64url, the first 22 characters
 * (132 bits). The NUL between parts keeps `('ab', 'c')` and `('a', 'bc')` apart, for parts that
 * hold no NUL: a bearer token never does (RFC 6750's alphabet). One part is the digest of that
 * string alone.
 */
export function digestOf(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  parts.forEach((part, index) => {
    if (index > 0) hash.update('\0');
    hash.update(part);
  });
  return hash.digest('base64url').slice(0, KEY_LENGTH);
}
