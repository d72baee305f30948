import { inspect } from 'node:util';

// The forms a secret can come back in from a server that echoes what it was sent: as sent, and
// re-encoded (percent, form, JSON, base64) once or after being decoded.

const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
const unicodeEscaped = (text: string, hex: (h: string) => string) =>
  // By UTF-16 unit, as JSON escapes them (a character outside the BMP is two \\u escapes).
  text
    .split('')
    .map((c) => (/[A-Za-z0-9]/.test(c) ? c : `\\u${hex(c.charCodeAt(0).toString(16).padStart(4, '0'))}`))
    .join('');

/** Each way a server could re-encode a secret it echoes, by name. */
export const ENCODINGS: readonly [string, (secret: string) => string][] = [
  ['raw', (s) => s],
  ['percent-encoded', (s) => encodeURIComponent(s)],
  ['percent-encoded, lower-case hex', (s) => lowerHex(encodeURIComponent(s))],
  ['form-encoded', (s) => new URLSearchParams({ s }).toString().slice(2)],
  ['form-encoded, lower-case hex', (s) => lowerHex(new URLSearchParams({ s }).toString().slice(2))],
  ['JSON-escaped', (s) => JSON.stringify(s).slice(1, -1)],
  ['JSON-escaped with \\/', (s) => JSON.stringify(s).slice(1, -1).replace(/\//g, '\\/')],
  ['JSON \\u-escaped', (s) => unicodeEscaped(s, (h) => h)],
  ['JSON \\u-escaped, upper-case hex', (s) => unicodeEscaped(s, (h) => h.toUpperCase())],
];

/** Every encoding of `secret` a test looks for (and an echoing server sends back). */
export function secretForms(secret: string, { base64 = false } = {}): string[] {
  const forms = ENCODINGS.map(([, encode]) => encode(secret));
  if (base64) forms.push(Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('base64url'));
  return [...new Set(forms)];
}

/** Everything of an error a caller or a logger could see: message, stack, JSON, a deep inspect, each cause. */
export function views(error: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 10; depth += 1) {
    const err = e as Error & { description?: unknown };
    out.push(String(err.message), String(err.stack), String(err.description), JSON.stringify(e) ?? '');
    out.push(inspect(e, { depth: Infinity, showHidden: true }), inspect(e, { depth: Infinity }));
    e = err.cause;
  }
  return out;
}

/** The forms of any of `secrets` found in any view of `error` (an empty list when none leaked). */
export function leaks(error: unknown, secrets: readonly string[], options?: { base64?: boolean }): string[] {
  const found = new Set<string>();
  const all = views(error);
  for (const secret of secrets) for (const form of secretForms(secret, options)) if (all.some((v) => v.includes(form))) found.add(form);
  return [...found];
}
