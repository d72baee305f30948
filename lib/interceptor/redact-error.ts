import { createHash } from 'node:crypto';

// An axios error carries the request it belongs to: `config.headers` (which `err.toJSON()` and
// `JSON.stringify(err)` serialise) and, from Node's http adapter, the `ClientRequest` with the raw
// header block it wrote (`_header`), its header table (`getHeaders()`, under a symbol), and the
// follow-redirects wrapper's options (`_redirectable`). `util.inspect(err)` walks all of them.
// Every team logs failed calls, so the bearer token the package attached is replaced in each of
// these places by a note of what it was, before the error leaves the instance.
//
// Why replace it in place rather than hide it from the views only (a non-enumerable holder or a
// custom inspect): axios normalises header values to strings, and the http adapter copies them into
// the ClientRequest's plain string `_header`, so no holder survives the way to the places a logger
// reads. Nothing is lost by replacing it: a config re-sent through the instance (axios-retry, a
// response interceptor's `instance.request(err.config)`) passes the request handler again, which
// sets the current token for it, and a config sent anywhere else must not carry the token anyway.

/** How a replaced token starts, so that the request handler knows its own note when it sees one again. */
export const REDACTED_PREFIX = 'Bearer [redacted by axios-m2m';

/** What a token is replaced with: enough to tell which token it was and for what, nothing to use. */
export interface RedactionNote {
  scope: string;
  expiresAt: number;
}

/**
 * The `Authorization` value that stands in for a token: its scope, its expiry and a short digest
 * (the first 8 hex digits of its SHA-256, to match it against the token a log or a debugger shows
 * elsewhere, e.g. `axios-m2m token … --raw | sha256sum`), never the token itself.
 */
export function redactedAuthorization(token: string, note: RedactionNote): string {
  const digest = createHash('sha256').update(token).digest('hex').slice(0, 8);
  const expires = Number.isFinite(note.expiresAt) ? new Date(note.expiresAt).toISOString() : 'unknown';
  return `${REDACTED_PREFIX}: sha256 ${digest}, scope ${note.scope}, expires ${expires}]`;
}

type Headerish = Record<string | symbol, unknown>;

/** `Bearer <token>` becomes the note; a bare copy of the token, the note without its scheme. */
function replaceIn(value: unknown, token: string, replacement: string): unknown {
  if (typeof value === 'string') {
    return value.includes(token) ? value.replaceAll(`Bearer ${token}`, replacement).replaceAll(token, replacement.slice('Bearer '.length)) : value;
  }
  if (Array.isArray(value)) return value.map((item) => replaceIn(item, token, replacement));
  return value;
}

/** Every own property of a plain header table (string keys), values replaced in place. */
function redactTable(table: unknown, token: string, replacement: string): void {
  if (table === null || typeof table !== 'object') return;
  for (const key of Object.keys(table)) {
    const record = table as Headerish;
    const next = replaceIn(record[key], token, replacement);
    if (next !== record[key]) record[key] = next;
  }
}

/** The request object of an error: Node's `ClientRequest` (http adapter), or a fetch `Request`. */
function redactRequest(request: unknown, token: string, replacement: string, seen: Set<unknown>): void {
  if (request === null || typeof request !== 'object' || seen.has(request)) return;
  seen.add(request);
  const req = request as Headerish;
  if (typeof req._header === 'string') req._header = replaceIn(req._header, token, replacement);
  // The header table behind getHeaders()/getHeader(): Node keeps it under a private symbol
  // (kOutHeaders), `{ authorization: ['Authorization', 'Bearer …'] }`.
  for (const symbol of Object.getOwnPropertySymbols(req)) {
    if (symbol.description === 'kOutHeaders') {
      const table = req[symbol];
      if (table !== null && typeof table === 'object') {
        for (const entry of Object.values(table)) redactTable(entry, token, replacement);
      }
    }
  }
  // What was queued but not written when the connection failed: the request's own queue and its
  // socket's, both holding the raw header block.
  if (Array.isArray(req.outputData)) for (const chunk of req.outputData as Headerish[]) redactTable(chunk, token, replacement);
  const socket = req.socket as Headerish | null | undefined;
  if (socket !== null && typeof socket === 'object') {
    if (typeof socket._pendingData === 'string') socket._pendingData = replaceIn(socket._pendingData, token, replacement);
    // A socket of an interception library (nock, msw: @mswjs/interceptors) keeps a fetch Request.
    redactRequest(socket.request, token, replacement, seen);
  }
  // follow-redirects (behind the http adapter): its wrapper is the error's request when no
  // response came (a refused connection), else it hangs on the native request as `_redirectable`.
  if (req._currentRequest !== undefined && req._options !== null && typeof req._options === 'object') {
    redactTable((req._options as Headerish).headers, token, replacement);
    redactRequest(req._currentRequest, token, replacement, seen);
  }
  redactRequest(req._redirectable, token, replacement, seen);
  // The fetch adapter's Request: its Headers are mutable.
  const headers = req.headers as { get?: unknown; set?: unknown } | undefined;
  if (typeof headers?.get === 'function' && typeof headers.set === 'function') {
    const value = (headers.get as (name: string) => unknown).call(headers, 'authorization');
    if (typeof value === 'string' && value.includes(token)) {
      try {
        (headers.set as (name: string, value: string) => void).call(headers, 'authorization', replaceIn(value, token, replacement) as string);
      } catch {
        // An immutable Headers: nothing else reads it after the error.
      }
    }
  }
}

/** The parts of an AxiosError that hold what was sent. */
interface ErrorLike {
  config?: { headers?: unknown };
  request?: unknown;
  response?: { config?: { headers?: unknown }; request?: unknown };
}

/** The `Authorization` of an axios config's headers (AxiosHeaders, or a plain object in a hand-made error). */
function authorizationOf(headers: unknown): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (name: string) => unknown } & Headerish;
  const value = typeof h.get === 'function' ? h.get('Authorization') : (h.Authorization ?? h.authorization);
  return typeof value === 'string' ? value : undefined;
}

function redactConfig(config: { headers?: unknown } | undefined, token: string, replacement: string): void {
  const headers = config?.headers as ({ set?: (name: string, value: string, rewrite: boolean) => unknown } & Headerish) | undefined;
  if (headers === undefined || authorizationOf(headers)?.includes(token) !== true) return;
  if (typeof headers.set === 'function') headers.set('Authorization', replacement, true);
  else redactTable(headers, token, replacement);
}

/**
 * Replaces `token` in every place of an axios error that holds what was sent (see above). Only the
 * token given: an `Authorization` of the user's own (sent with `token: false`) is theirs.
 */
export function redactError(error: ErrorLike, token: string, note: RedactionNote): void {
  if (token === '') return;
  const replacement = redactedAuthorization(token, note);
  redactConfig(error.config, token, replacement);
  redactConfig(error.response?.config, token, replacement);
  const seen = new Set<unknown>();
  redactRequest(error.request, token, replacement, seen);
  redactRequest(error.response?.request, token, replacement, seen);
}

/** The bearer token in an axios config's `Authorization`, if it is a bearer token. */
export function bearerOf(config: { headers?: unknown } | undefined): string | undefined {
  const value = authorizationOf(config?.headers);
  return value?.startsWith('Bearer ') && !value.startsWith(REDACTED_PREFIX) ? value.slice(7) : undefined;
}
