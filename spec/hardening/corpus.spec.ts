import axios from 'axios';
import { expect } from 'chai';
import nock from 'nock';
import { inspect } from 'node:util';
import { TokenError } from '../../lib/errors.js';
import { attachToken } from '../../lib/interceptor/attach-token.js';
import { clientCredentials } from '../../lib/sources/client-credentials.js';
import { texas } from '../../lib/sources/texas.js';
import type { TokenSource } from '../../lib/types.js';
import { useNock } from '../support/nock.js';

// The bad-input corpus: answers a token endpoint (or whatever sits in front of it) can send that
// are not a usable token. Each must end in a clear TokenError, never a crash, an unhandled
// rejection or a cached bad token, and the next good answer must work. Add a row to extend it.

const SCOPE = 'api://dev-gcp.team.api/.default';
const SECRET = 'corpus-secret-5f1b0c2e';
const GOOD = { access_token: 'good-token', expires_in: 3599, token_type: 'Bearer' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Reply = { status: number; body: string | object; headers?: Record<string, string> };
interface Case {
  name: string;
  /** A function when the answer depends on the time the case runs (a JWT's exp). */
  reply: Reply | (() => Reply);
  /** The expected TokenError code, or `ok` with a check of the token. */
  code: string;
  expiresIn?: (lifetimeMs: number) => boolean;
}

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const html = '<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>';
const ok = (fields: object): Reply => ({ status: 200, body: { ...GOOD, ...fields } });
const without = (field: string): Reply => {
  const body: Record<string, unknown> = { ...GOOD };
  delete body[field];
  return { status: 200, body };
};

const cases: Case[] = [
  // Bodies that are not a JSON object
  { name: 'HTML with 200', reply: { status: 200, body: html, headers: { 'content-type': 'text/html' } }, code: 'bad_response' },
  { name: 'an empty body with 200', reply: { status: 200, body: '' }, code: 'bad_response' },
  { name: 'whitespace only', reply: { status: 200, body: '  \n ' }, code: 'bad_response' },
  { name: 'truncated JSON', reply: { status: 200, body: '{"access_token":"abc","expires_in":35' }, code: 'bad_response' },
  { name: 'JSON null', reply: { status: 200, body: 'null' }, code: 'bad_response' },
  { name: 'a JSON array', reply: { status: 200, body: '[{"access_token":"x"}]' }, code: 'bad_response' },
  { name: 'a JSON string', reply: { status: 200, body: '"good-token"' }, code: 'bad_response' },
  { name: 'a JSON number', reply: { status: 200, body: '42' }, code: 'bad_response' },
  { name: 'JSON with a BOM-like prefix', reply: { status: 200, body: `)]}',\n${JSON.stringify(GOOD)}` }, code: 'bad_response' },
  // access_token
  { name: 'no access_token', reply: without('access_token'), code: 'bad_response' },
  { name: 'an empty access_token', reply: ok({ access_token: '' }), code: 'bad_response' },
  { name: 'a numeric access_token', reply: ok({ access_token: 12345 }), code: 'bad_response' },
  { name: 'an object access_token', reply: ok({ access_token: { value: 'x' } }), code: 'bad_response' },
  { name: 'access_token with a space', reply: ok({ access_token: 'abc def' }), code: 'bad_response' },
  { name: 'access_token with a tab', reply: ok({ access_token: 'abc\tdef' }), code: 'bad_response' },
  { name: 'access_token with CRLF (header injection)', reply: ok({ access_token: 'abc\r\nX-Evil: 1' }), code: 'bad_response' },
  { name: 'access_token with a NUL', reply: ok({ access_token: 'abc\u0000def' }), code: 'bad_response' },
  { name: 'access_token with non-ASCII', reply: ok({ access_token: 'abcé' }), code: 'bad_response' },
  { name: 'access_token with DEL', reply: ok({ access_token: 'abc\u007f' }), code: 'bad_response' },
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
    reply: () => ok({ expires_in: undefined, access_token: jwt({ exp: Math.floor(Date.now() / 1000) - 10 }) }),
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
  { name: 'a 60 KB description (under the limit) is kept short', reply: { status: 400, body: { error: 'invalid_request', error_description: 'y'.repeat(60_000) } }, code: 'invalid_request' },
  { name: 'HTML with 502', reply: { status: 502, body: html, headers: { 'content-type': 'text/html' } }, code: 'bad_response' },
  { name: 'HTML with 500', reply: { status: 500, body: html, headers: { 'content-type': 'text/html' } }, code: 'bad_response' },
  { name: 'HTML with 503', reply: { status: 503, body: html, headers: { 'content-type': 'text/html' } }, code: 'bad_response' },
  { name: 'an empty 500', reply: { status: 500, body: '' }, code: 'bad_response' },
  { name: 'a 302 redirect', reply: { status: 302, body: '', headers: { location: 'https://evil.example/token' } }, code: 'bad_response' },
  { name: 'a 200 with an error body', reply: { status: 200, body: { error: 'invalid_client' } }, code: 'bad_response' },
];

const sources: { name: string; origin: string; path: string; make(): TokenSource }[] = [
  {
    name: 'clientCredentials()',
    origin: 'https://login.example',
    path: '/tenant/oauth2/v2.0/token',
    make: () =>
      clientCredentials({ tokenEndpoint: 'https://login.example/tenant/oauth2/v2.0/token', clientId: 'c', clientSecret: SECRET, retries: 0 }),
  },
  {
    name: 'texas()',
    origin: 'http://127.0.0.1:7164',
    path: '/api/v1/token',
    make: () => texas({ endpoint: 'http://127.0.0.1:7164/api/v1/token', retries: 0 }),
  },
];

describe('bad answers from the token endpoint (the corpus)', () => {
  useNock();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled, 'unhandled rejections during the corpus').to.deep.equal([]);
  });

  it(`has at least 45 cases (it has ${cases.length})`, () => {
    expect(cases.length).to.be.at.least(45);
  });

  for (const source of sources) {
    describe(source.name, () => {
      for (const c of cases) {
        it(`${c.name}: ${c.code === 'ok' ? 'a usable token' : `TokenError ${c.code}`}, and the next good answer works`, async () => {
          const reply = typeof c.reply === 'function' ? c.reply() : c.reply;
          const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
          nock(source.origin)
            .post(source.path)
            .reply(reply.status, body, { 'content-type': 'application/json', ...reply.headers });
          const tokens = source.make();
          const sent = Date.now();
          const result = await tokens.getToken(SCOPE).then(
            (token) => ({ token }),
            (error: unknown) => ({ error }),
          );
          if (c.code === 'ok') {
            expect(result).to.have.property('token');
            const { token } = result as { token: { token: string; expiresAt: number } };
            if (c.expiresIn) expect(c.expiresIn(token.expiresAt - sent), `lifetime ${token.expiresAt - sent} ms`).to.equal(true);
            return;
          }
          const error = (result as { error: TokenError }).error;
          expect(error).to.be.instanceOf(TokenError);
          expect(error.code).to.equal(c.code);
          expect(error.message).to.match(new RegExp(`^token request for ${SCOPE.replace(/[./]/g, '\\$&')} failed: `));
          expect(error.message).to.not.match(/[\r\n]/);
          expect(error.message.length).to.be.below(600);
          expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(SECRET);
          expect(JSON.stringify(error)).to.not.include(SECRET);
          // Nothing bad was cached: the next good answer is used.
          nock(source.origin).post(source.path).reply(200, GOOD);
          expect((await tokens.getToken(SCOPE)).token).to.equal('good-token');
        });
      }
    });
  }
});

describe('bad input from the user', () => {
  const source = texas({ endpoint: 'http://127.0.0.1:7164/api/v1/token' });

  for (const scope of ['', ' ', 'api://a/.default ', 'api://a/.default\napi://b', 'api://a/\u0000.default', 42, undefined]) {
    it(`rejects the scope ${JSON.stringify(scope)} at once with a TypeError, before any request`, async () => {
      const error = await source.getToken(scope as string).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TypeError);
      expect((error as Error).message).to.match(/^axios-m2m: expected scope to be/);
    });
  }

  const wrongOptions: [string, () => unknown, RegExp][] = [
    ['texas({ endpoint: 42 })', () => texas({ endpoint: 42 as never }), /endpoint/],
    ['texas({ identityProvider: "tokenx" })', () => texas({ endpoint: 'http://127.0.0.1:1/t', identityProvider: 'tokenx' as never }), /identityProvider/],
    ['texas({ bodyFormat: "xml" })', () => texas({ endpoint: 'http://127.0.0.1:1/t', bodyFormat: 'xml' as never }), /bodyFormat/],
    ['texas("endpoint")', () => texas('http://127.0.0.1:1/t' as never), /options/],
    ['clientCredentials({ retries: -1 })', () => clientCredentials({ tokenEndpoint: 'https://x.example/t', clientId: 'c', clientSecret: 's', retries: -1 }), /retries/],
    ['clientCredentials({ attemptTimeout: "10s" })', () => clientCredentials({ tokenEndpoint: 'https://x.example/t', clientId: 'c', clientSecret: 's', attemptTimeout: '10s' as never }), /attemptTimeout/],
    ['attachToken(api, { source: texas(...), retryOn: "x" })', () => attachToken(axios.create(), { source: texas({ endpoint: 'http://127.0.0.1:1/t' }), retryOn: 'x' as never }), /retryOn/],
    ['clientCredentials({ maxEntries: 1.5 })', () => clientCredentials({ tokenEndpoint: 'https://x.example/t', clientId: 'c', clientSecret: 's', maxEntries: 1.5 }), /maxEntries/],
    ['clientCredentials({ expiryMargin: NaN })', () => clientCredentials({ tokenEndpoint: 'https://x.example/t', clientId: 'c', clientSecret: 's', expiryMargin: Number.NaN }), /expiryMargin/],
  ];
  for (const [name, make, pattern] of wrongOptions) {
    it(`refuses ${name} at once with a TypeError naming the option`, () => {
      expect(make).to.throw(TypeError, pattern);
    });
  }
});
