// An endpoint (or a proxy in front of it) may echo what it was sent into its answer: the body as it
// travelled (form- or JSON-encoded), decoded, or re-encoded once more. A secret must be scrubbed in
// every one of those forms, not only as the package knows it. Rather than list every encoding of
// the whole secret (and miss a mix of two), each character of a secret matches any of its forms.

/** What stands in for a secret in text the package shows. */
export const REDACTED = '[REDACTED]';

/** Shorter values are not scrubbed: they would match ordinary text, and are no secret worth the name. */
const MIN_SECRET_LENGTH = 4;

const escapeRegExp = (text: string) => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** `n` in hexadecimal, each letter matching either case (`%7e` and `%7E` alike). */
const hex = (n: number, width: number) =>
  n
    .toString(16)
    .padStart(width, '0')
    .replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);

const JSON_SHORT_ESCAPES: Record<string, string> = {
  '"': '\\\\"',
  '\\': '\\\\\\\\',
  '/': '\\\\/',
  '\b': '\\\\b',
  '\f': '\\\\f',
  '\n': '\\\\n',
  '\r': '\\\\r',
  '\t': '\\\\t',
};
const HTML_NAMED: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;|&apos;' };

/** A regular expression (source) matching one character (a code point) in any form it can be echoed in. */
function characterForms(char: string): string {
  // Letters and digits travel as they are: no encoder in use (percent, form, JSON) escapes them.
  // (`char` is one code point, so the class needs no anchors.)
  if (/[a-z0-9]/i.test(char)) return char;
  const code = char.codePointAt(0)!;
  const bytes = [...Buffer.from(char)];
  const forms = [
    escapeRegExp(char),
    // Percent-encoded (encodeURIComponent, a form encoder, either hex case), once or twice.
    bytes.map((b) => `%(?:25)?${hex(b, 2)}`).join(''),
    // JSON (and JavaScript) escapes: \uXXXX in UTF-16 units, the short ones, \xHH.
    char
      .split('')
      .map((unit) => `\\\\u${hex(unit.charCodeAt(0), 4)}`)
      .join(''),
  ];
  if (char === ' ') forms.push('\\+'); // application/x-www-form-urlencoded
  if (JSON_SHORT_ESCAPES[char] !== undefined) forms.push(JSON_SHORT_ESCAPES[char]);
  if (code < 0x100) forms.push(`\\\\x${hex(code, 2)}`);
  // HTML character references, as an error page would quote it.
  forms.push(`&#0*${code};`, `&#[xX]0*${hex(code, 1)};`);
  if (HTML_NAMED[char] !== undefined) forms.push(HTML_NAMED[char]);
  return `(?:${forms.join('|')})`;
}

/**
 * Scrubs a request's secrets from text an endpoint sent back, in every form: as sent, percent- or
 * form-encoded (either hex case, `+` for a space), JSON-escaped (`\/`, `\uXXXX`), as HTML
 * character references, and in any mix of those. Built on first use, once per request: most
 * requests never fail.
 */
export class Redactor {
  readonly #secrets: readonly Secret[];

  constructor(secrets: readonly string[]) {
    // Longest first: a secret that contains another is scrubbed whole.
    this.#secrets = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH))]
      .sort((a, b) => b.length - a.length)
      .map((value) => new Secret(value));
  }

  /** `text` with every form of every secret replaced by `[REDACTED]`. */
  redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) {
      // Speed only: text without the secret's anchor holds no form of it (see `Secret`).
      // Stryker disable next-line ConditionalExpression: trying the pattern on such text too gives the same text (`false`, ignored with it, would scrub nothing)
      if (secret.mayBeIn(out)) out = out.replace(secret.pattern(), REDACTED);
    }
    return out;
  }

  /** Whether `text` carries any form of a secret. */
  finds(text: string): boolean {
    return this.#secrets.some((secret) => secret.mayBeIn(text) && new RegExp(secret.pattern().source).test(text));
  }
}

/** One secret, with its pattern compiled on first need (a long one takes milliseconds). */
class Secret {
  readonly #value: string;
  /** Its longest run of letters and digits: every form keeps it, so text without it needs no pattern. */
  readonly #anchor: string;
  #pattern: RegExp | undefined;

  constructor(value: string) {
    this.#value = value;
    // Which run is the anchor decides only how often a pattern is tried, never what it matches:
    // every form of the secret holds each of its runs as written.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: any run (or '') anchors as safely, only less often skipping
    this.#anchor = value.split(/[^a-z0-9]/i).reduce((a, b) => (b.length > a.length ? b : a), '');
  }

  mayBeIn(text: string): boolean {
    return text.includes(this.#anchor);
  }

  pattern(): RegExp {
    this.#pattern ??= new RegExp([...this.#value].map(characterForms).join(''), 'g');
    return this.#pattern;
  }
}

/**
 * The secrets of a proxy URL's credentials: the password and the `Proxy-Authorization: Basic`
 * value (base64 of `user:password`, as sent), which a proxy's error page may echo.
 */
export function proxySecrets(proxy: URL): string[] {
  if (!proxy.username && !proxy.password) return [];
  const user = decoded(proxy.username);
  const password = decoded(proxy.password);
  const basic = `${user}:${password}`;
  return [password, basic, Buffer.from(basic).toString('base64')];
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray `%`: sent as written
  }
}
