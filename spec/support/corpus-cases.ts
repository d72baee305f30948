// The bad-input corpus: answers a token endpoint (or whatever sits in front of it) can send that
// are not a usable token. Shared by corpus.spec.ts (each to a clear TokenError) and secrets.spec.ts
// (no secret or token in any of those errors). Add a row to extend both.

export const SCOPE = 'api://dev-gcp.team.api/.default';
export const SECRET = 'corpus-secret-5f1b0c2e';
/** Recognisable access-token bytes: every rejected access_token in the table contains them. */
export const TOKEN = 'at-9c41e7b2';
export const GOOD = { access_token: 'good-token', expires_in: 3599, token_type: 'Bearer' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type Reply = { status: number; body: string | object; headers?: Record<string, string> };
export interface Case {
  name: string;
  /** A function when the answer depends on the time the case runs (a JWT's exp). */
  reply: Reply | (() => Reply);
  /** The expected TokenError code, or `ok` with a check of the token. */
  code: string;
  expiresIn?: (lifetimeMs: number) => boolean;
}

export const jwt = (claims: object) => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
export const html = '<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>';
export const ok = (fields: object): Reply => ({ status: 200, body: { ...GOOD, ...fields } });
export const without = (field: string): Reply => {
  const body: Record<string, unknown> = { ...GOOD };
  delete body[field];
  return { status: 200, body };
};

export const cases: Case[] = [
  // Bodies that are not a JSON object
  { name: 'HTML with 200', reply: { status: 200, body: html, headers: { 'content-type': 'text/html' } }, code: 'bad_response' },
  { name: 'an empty body with 200', reply: { status: 200, body: '' }, code: 'bad_response' },
  { name: 'whitespace only', reply: { status: 200, body: '  \n ' }, code: 'bad_response' },
  { name: 'truncated JSON', reply: { status: 200, body: `{"access_token":"${TOKEN}","expires_in":35` }, code: 'bad_response' },
  { name: 'JSON null', reply: { status: 200, body: 'null' }, code: 'bad_response' },
  { name: 'a JSON array', reply: { status: 200, body: `[{"access_token":"${TOKEN}"}]` }, code: 'bad_response' },
  { name: 'a JSON string', reply: { status: 200, body: `"${TOKEN}"` }, code: 'bad_response' },
  { name: 'a JSON number', reply: { status: 200, body: '42' }, code: 'bad_response' },
  { name: 'JSON with a BOM-like prefix', reply: { status: 200, body: `)]}',\n${JSON.stringify(GOOD)}` }, code: 'bad_response' },
  // access_token
  { name: 'no access_token', reply: without('access_token'), code: 'bad_response' },
  { name: 'an empty access_token', reply: ok({ access_token: '' }), code: 'bad_response' },
  { name: 'a numeric access_token', reply: ok({ access_token: 12345 }), code: 'bad_response' },
  { name: 'an object access_token', reply: ok({ access_token: { value: TOKEN } }), code: 'bad_response' },
  { name: 'access_token with a space', reply: ok({ access_token: `${TOKEN} def` }), code: 'bad_response' },
  { name: 'access_token with a tab', reply: ok({ access_token: `${TOKEN}\tdef` }), code: 'bad_response' },
  { name: 'access_token with CRLF (header injection)', reply: ok({ access_token: `${TOKEN}\r\nX-Evil: 1` }), code: 'bad_response' },
  { name: 'access_token with a NUL', reply: ok({ access_token: `${TOKEN}\u0000def` }), code: 'bad_response' },
  { name: 'access_token with non-ASCII', reply: ok({ access_token: `${TOKEN}é` }), code: 'bad_response' },
  { name: 'access_token with DEL', reply: ok({ access_token: `${TOKEN}\u007f` }), code: 'bad_response' },
  // expires_in
  { name: 'expires_in 0', reply: ok({ expires_in: 0 }), code: 'bad_response' },
  { name: 'expires_in negative', reply: ok({ expires_in: -60 }), code: 'bad_response' },
  { name: "expires_in 'abc'", reply: ok({ expires_in: 'abc' }), code: 'bad_response' },
  { name: "expires_in '-5'", reply: ok({ expires_in: '-5' }), code: 'bad_response' },
  { name: "expires_in ''", reply: ok({ expires_in: '' }), code: 'bad_response' },
  { name: 'expires_in true', reply: ok({ expires_in: true }), code: 'bad_response' },
  { name: 'expires_in an object', reply: ok({ expires_in: { seconds: 60 } }), code: 'bad_response' },
  { name: 'expires_in an array', reply: ok({ expires_in: [3599] }), code: 'bad_response' },
  { name: "expires_in 'NaN'", reply: ok({ expires_in: 'NaN' }), code: 'bad_response' },
  { name: "expires_in 'Infinity'", reply: ok({ expires_in: 'Infinity' }), code: 'bad_response' },
  { name: "expires_in '3599' (a numeric string) is fine", reply: ok({ expires_in: '3599' }), code: 'ok', expiresIn: (ms) => Math.abs(ms - 3_599_000) < 2_000 },
  { name: 'expires_in 1e308 is capped at 24 hours', reply: ok({ expires_in: 1e308 }), code: 'ok', expiresIn: (ms) => ms <= DAY + 1_000 && ms > DAY - 2_000 },
  { name: 'expires_in of a year is capped at 24 hours', reply: ok({ expires_in: 365 * 86_400 }), code: 'ok', expiresIn: (ms) => ms <= DAY + 1_000 && ms > DAY - 2_000 },
  { name: 'expires_in missing, opaque token: 60 s', reply: without('expires_in'), code: 'ok', expiresIn: (ms) => ms <= 61_000 && ms > 58_000 },
  {
    name: 'expires_in missing, JWT: its exp',
    reply: () => ok({ expires_in: undefined, access_token: jwt({ exp: Math.floor(Date.now() / 1000) + 600 }) }),
    code: 'ok',
    expiresIn: (ms) => ms <= 601_000 && ms > 590_000,
  },
  {
    name: 'expires_in missing, JWT already expired',
    reply: () => ok({ expires_in: undefined, access_token: jwt({ exp: Math.floor(Date.now() / 1000) - 10, jti: TOKEN }) }),
    code: 'bad_response',
  },
  // token_type
  { name: "token_type 'mac'", reply: ok({ token_type: 'mac' }), code: 'bad_response' },
  { name: "token_type 'DPoP'", reply: ok({ token_type: 'DPoP' }), code: 'bad_response' },
  { name: 'token_type empty', reply: ok({ token_type: '' }), code: 'bad_response' },
  { name: 'token_type a number', reply: ok({ token_type: 1 }), code: 'bad_response' },
  { name: "token_type 'bearer' (lower case) is fine", reply: ok({ token_type: 'bearer' }), code: 'ok' },
  { name: "token_type 'BEARER' is fine", reply: ok({ token_type: 'BEARER' }), code: 'ok' },
  // Size
  { name: 'a 200 body over 64 KiB', reply: ok({ padding: 'x'.repeat(70_000) }), code: 'bad_response' },
  // Error answers
  { name: 'an error body without error', reply: { status: 400, body: { error_description: 'something' } }, code: 'bad_response' },
  { name: 'an error body with a numeric error', reply: { status: 400, body: { error: 400 } }, code: 'bad_response' },
  { name: 'an error body with an empty error', reply: { status: 400, body: { error: '' } }, code: 'bad_response' },
  { name: 'an error with a quote in its code', reply: { status: 400, body: { error: 'bad"code' } }, code: 'bad_response' },
  { name: 'an error with a non-string description', reply: { status: 400, body: { error: 'invalid_scope', error_description: { x: 1 } } }, code: 'invalid_scope' },
  { name: 'an error with non-numeric error_codes', reply: { status: 401, body: { error: 'invalid_client', error_codes: ['x'] } }, code: 'invalid_client' },
  { name: 'a multi-megabyte description', reply: { status: 400, body: { error: 'invalid_request', error_description: 'x'.repeat(3_000_000) } }, code: 'bad_response' },
  {
    name: 'a 60 KB description (under the limit) is kept short',
    reply: { status: 400, body: { error: 'invalid_request', error_description: 'y'.repeat(60_000) } },
    code: 'invalid_request',
  },
  { name: 'HTML with 502', reply: { status: 502, body: html, headers: { 'content-type': 'text/html' } }, code: 'bad_response' },
  { name: 'HTML with 500', reply: { status: 500, body: html, headers: { 'content-type': 'text/html' } }, code: 'bad_response' },
  { name: 'HTML with 503', reply: { status: 503, body: html, headers: { 'content-type': 'text/html' } }, code: 'bad_response' },
  { name: 'an empty 500', reply: { status: 500, body: '' }, code: 'bad_response' },
  { name: 'a 302 redirect', reply: { status: 302, body: '', headers: { location: 'https://evil.example/token' } }, code: 'bad_response' },
  { name: 'a 200 with an error body', reply: { status: 200, body: { error: 'invalid_client' } }, code: 'bad_response' },
];
