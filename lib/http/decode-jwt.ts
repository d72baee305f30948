// Reads a JWT's claims or header WITHOUT verifying it: only to learn when a token expires (`exp`),
// whether an incoming token has a JWS's shape at all (introspection, before Texas is asked) and,
// in the CLI, to show what a token says. jose's decodeJwt does the same, but even its
// `jose/jwt/decode` subpath is five ES modules, about 5 ms of every service's start-up (the import
// cost that `npm run bench` measures), for what Buffer does in a line. jose still signs client assertions (loaded then).

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  const parts = typeof token === 'string' ? token.split('.') : [];
  // Compact JWS only: three parts (a JWE has five and its payload is encrypted).
  if (parts.length !== 3) throw new TypeError('not a JWT (a compact JWS has three parts)');
  const part = parts[index]!;
  if (!BASE64URL.test(part)) throw new TypeError('not a JWT (a part is not base64url)');
  const value: unknown = JSON.parse(UTF8.decode(Buffer.from(part, 'base64url')));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('not a JWT (a part is not a JSON object)');
  return value as Record<string, unknown>;
}

/** The claims (payload) of a compact JWS, unverified. Throws for anything else. */
export function decodeJwt(token: string): Record<string, unknown> {
  return decodePart(token, 1);
}

/** The protected header of a compact JWS, unverified. Throws for anything else. */
export function decodeProtectedHeader(token: string): Record<string, unknown> {
  return decodePart(token, 0);
}
