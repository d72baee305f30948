import { decodeJwt } from './decode-jwt.js';
import type { AccessToken } from '../types.js';

// What the token endpoints answer, checked field by field: a bad answer must become a clear
// error, never a crash, never a header-breaking or cached bad token (see README, "Failure modes").

/** `expires_in` when the answer has none and the token is not a JWT with `exp`. */
const DEFAULT_LIFETIME = 60_000;
/** Longer lifetimes are capped: a day-old token is more likely revoked than useful. */
const MAX_LIFETIME = 24 * 60 * 60 * 1000;

const MAX_DESCRIPTION = 1_000;
const MAX_MESSAGE_DESCRIPTION = 300;
// RFC 6749 §5.2: error codes are printable ASCII without `"` and `\`; anything else is not an
// OAuth error answer.
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}$/;
// A bearer token goes into a header: printable ASCII without spaces (RFC 6750 b64token and the
// JWT alphabet are subsets). Whitespace or control characters would break or smuggle headers.
const TOKEN_CHARS = /^[\x21-\x7e]+$/;
const SUPPORT_ID = /^[\x21-\x7e]{1,100}$/;

/** A body that is not a valid token or error answer; `reason` says what is wrong, without its content. */
export class BadAnswer extends Error {}

/** The fields of an OAuth error answer (Texas sends only the first two; Entra ID all). */
export interface ErrorAnswer {
  error: string;
  description?: string;
  errorCodes?: number[];
  traceId?: string;
  correlationId?: string;
}

function parseJsonObject(body: string): Record<string, unknown> | undefined {
  if (body.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Folds whitespace and control characters so that a server's text stays on one line. */
export function oneLine(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const folded = text.replace(/[\x00-\x20\x7f-\x9f\u2028\u2029]+/g, ' ').trim();
  return folded.length > max ? `${folded.slice(0, max - 1)}…` : folded;
}

/** The first line of a description: Entra ID appends `Trace ID: …` and a timestamp on later lines. */
export function summary(description: string): string {
  return oneLine(description.split(/\r?\n/, 1)[0] ?? '', MAX_MESSAGE_DESCRIPTION);
}

/** The OAuth error answer in `body`, or undefined when the body is not one. */
export function parseErrorAnswer(body: string): ErrorAnswer | undefined {
  const json = parseJsonObject(body);
  if (json === undefined || typeof json.error !== 'string' || !ERROR_CODE.test(json.error)) return undefined;
  const answer: ErrorAnswer = { error: json.error };
  if (typeof json.error_description === 'string' && json.error_description !== '') {
    // Whole (the answer's size is bounded): it is scrubbed of secrets before it is cut.
    answer.description = json.error_description;
  }
  if (Array.isArray(json.error_codes) && json.error_codes.every((c) => Number.isSafeInteger(c))) {
    answer.errorCodes = (json.error_codes as number[]).slice(0, 20);
  }
  if (typeof json.trace_id === 'string' && SUPPORT_ID.test(json.trace_id)) answer.traceId = json.trace_id;
  if (typeof json.correlation_id === 'string' && SUPPORT_ID.test(json.correlation_id)) {
    answer.correlationId = json.correlation_id;
  }
  return answer;
}

/** A description as kept on the error: one line per line break folded, bounded. */
export function cleanDescription(description: string): string {
  return oneLine(description, MAX_DESCRIPTION);
}

function lifetimeFrom(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  // Entra ID's v1 endpoint sends "3599" as a string (docs/protocols/entra.md, "A token").
  const seconds = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new BadAnswer('expires_in is not a positive number of seconds');
  }
  // Whole seconds, counted by the server from a second it rounded down (exp = floor(now) + n): the
  // token may die up to 1 s before `expires_in` says. Short tokens would otherwise be sent expired.
  return Math.min(seconds * 1000 - Math.min(1000, seconds * 500), MAX_LIFETIME);
}

function expiryFromJwt(token: string, requestedAt: number): number | undefined {
  let exp: unknown;
  try {
    exp = decodeJwt(token).exp;
  } catch {
    return undefined; // not a JWT: opaque tokens are fine
  }
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return undefined;
  if (exp * 1000 <= requestedAt) throw new BadAnswer('the token has expired already (no expires_in, JWT exp in the past)');
  return Math.min(exp * 1000, requestedAt + MAX_LIFETIME);
}

/**
 * When Entra ID asks for a refresh: `refresh_in` (seconds, sent with long-lived tokens) counted from
 * the moment the request was sent, so never later than it means. Only a hint: a value that is not a
 * positive number (or numeric string, as `expires_in` may be) is ignored, not an error, as the
 * token itself is fine and the cache's own refresh rule still holds.
 */
function refreshAtFrom(value: unknown, requestedAt: number): number | undefined {
  const refreshIn = typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  return typeof refreshIn === 'number' && Number.isFinite(refreshIn) && refreshIn > 0 ? requestedAt + refreshIn * 1000 : undefined;
}

/**
 * The token in a successful answer. `expiresAt` counts from `requestedAt`, the moment the request
 * was sent, so the time on the wire is never counted as lifetime; so does `refreshAt`, when the
 * answer has a `refresh_in`.
 */
export function parseTokenAnswer(body: string, requestedAt: number): AccessToken {
  const json = parseJsonObject(body);
  if (json === undefined) throw new BadAnswer(body.trim() === '' ? 'empty body' : 'body is not a JSON object');
  const token = json.access_token;
  if (typeof token !== 'string' || token === '') throw new BadAnswer('no access_token');
  if (!TOKEN_CHARS.test(token)) throw new BadAnswer('access_token has whitespace or control characters');
  const type = json.token_type;
  // Entra ID sends `Bearer` or `bearer`; a missing token_type is tolerated, another type is not.
  if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer')) {
    throw new BadAnswer('token_type is not Bearer');
  }
  const lifetime = lifetimeFrom(json.expires_in);
  const expiresAt = lifetime !== undefined ? requestedAt + lifetime : (expiryFromJwt(token, requestedAt) ?? requestedAt + DEFAULT_LIFETIME);
  const refreshAt = refreshAtFrom(json.refresh_in, requestedAt);
  return refreshAt === undefined ? { token, expiresAt } : { token, expiresAt, refreshAt };
}
