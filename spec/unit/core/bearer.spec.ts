import { expect } from 'chai';
import sinon from 'sinon';
import { bearerTokenOf, isBearerToken, MAX_BEARER_TOKEN_LENGTH } from '../../../lib/core/bearer.js';
import { captureUserToken } from '../../../lib/context/express.js';
import { captureUserTokenKoa } from '../../../lib/context/koa.js';
import { currentUserToken, withUserToken } from '../../../lib/context/user-token.js';
import { isAuthError } from '../../../lib/inbound/auth-error.js';
import type { TokenValidator } from '../../../lib/inbound/introspection.js';
import { requireToken, requireTokenKoa } from '../../../lib/inbound/require-token.js';

type Header = string | readonly string[] | undefined;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/';
const longest = 'a'.repeat(MAX_BEARER_TOKEN_LENGTH);

/** Each row: what a client sent in `Authorization`, and the token every reader must find (or none). */
const rows: [what: string, header: Header, token: string | undefined][] = [
  ['the usual form', 'Bearer abc', 'abc'],
  ['scheme in lower case', 'bearer abc', 'abc'],
  ['scheme in upper case', 'BEARER abc', 'abc'],
  ['scheme in mixed case', 'bEaReR abc', 'abc'],
  ['two spaces after the scheme', 'Bearer  abc', 'abc'],
  ['several spaces after the scheme', 'Bearer     abc', 'abc'],
  ['a tab after the scheme (the grammar is 1*SP)', 'Bearer\tabc', undefined],
  ['spaces and a tab after the scheme', 'Bearer \t abc', undefined],
  ['spaces and tabs around the value', ' \tBearer abc\t ', 'abc'],
  ['a JWT', 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'],
  ['every token68 character', `Bearer ${ALPHABET}`, ALPHABET],
  ['padding at the end', 'Bearer abc==', 'abc=='],
  ['padding in the middle', 'Bearer ab=c', undefined],
  ['padding alone', 'Bearer ==', undefined],
  ['a space inside the token', 'Bearer abc def', undefined],
  ['a tab inside the token', 'Bearer abc\tdef', undefined],
  ['a quoted token', 'Bearer "abc"', undefined],
  ['a newline after the token', 'Bearer abc\n', undefined],
  ['no space after the scheme', 'Bearerabc', undefined],
  ['Bearer alone', 'Bearer', undefined],
  ['Bearer and a space', 'Bearer ', undefined],
  ['Bearer and whitespace only', 'Bearer \t ', undefined],
  ['an empty value', '', undefined],
  ['another scheme (Basic)', 'Basic dXNlcjpwYXNz', undefined],
  ['a token without a scheme', 'abc', undefined],
  ['a scheme that starts like Bearer', 'Bearers abc', undefined],
  ['two headers joined with a comma', 'Bearer abc, Bearer def', undefined],
  ['two headers joined without a space', 'Bearer abc,Bearer def', undefined],
  ['a trailing comma', 'Bearer abc,', undefined],
  ['a non-ASCII letter in the token', 'Bearer tökén', undefined],
  ['a no-break space after the scheme', 'Bearer\u00a0abc', undefined],
  ['a no-break space after the token', 'Bearer abc\u00a0', undefined],
  ['an emoji token', 'Bearer \u{1f511}', undefined],
  ['a token of the largest length', `Bearer ${longest}`, longest],
  ['a token one character too long', `Bearer ${longest}a`, undefined],
  ['a megabyte of header', `Bearer ${'a'.repeat(1024 * 1024)}`, undefined],
  ['one header in an array', ['Bearer abc'], 'abc'],
  ['two headers in an array', ['Bearer abc', 'Bearer def'], undefined],
  ['the same header twice in an array', ['Bearer abc', 'Bearer abc'], undefined],
  ['an empty array', [], undefined],
  ['an array of one malformed header', ['Bearer abc def'], undefined],
  ['no header', undefined, undefined],
];

const label = (header: Header) => JSON.stringify(header)?.slice(0, 60);

describe('bearerTokenOf(authorization): the one Bearer-header rule', () => {
  for (const [what, header, token] of rows) {
    it(`${what}: ${token === undefined ? 'no token' : 'the token'}`, () => {
      expect(bearerTokenOf(header), label(header)).to.equal(token);
    });
  }

  it('reads a token of the largest length with up to 64 characters of whitespace around it', () => {
    const padded = `Bearer ${longest}${' '.repeat(57)}`;
    expect(padded.length).to.equal(MAX_BEARER_TOKEN_LENGTH + 64);
    expect(bearerTokenOf(padded)).to.equal(longest);
    expect(bearerTokenOf(`${padded} `)).to.equal(undefined);
  });

  it('runs no pattern over a header longer than any token could be (work an attacker would choose)', () => {
    const exec = sinon.spy(RegExp.prototype, 'exec');
    try {
      expect(bearerTokenOf(`Bearer ${'a'.repeat(1024 * 1024)}`)).to.equal(undefined);
      expect(exec.getCalls().filter((call) => String(call.args[0]).length > MAX_BEARER_TOKEN_LENGTH + 64)).to.have.length(0);
    } finally {
      exec.restore();
    }
  });

  it('is what isBearerToken() checks of a bare token', () => {
    for (const [, header, token] of rows) {
      if (token !== undefined) expect(isBearerToken(token), label(header)).to.equal(true);
    }
    expect(isBearerToken('')).to.equal(false);
    expect(isBearerToken('abc def')).to.equal(false);
    expect(isBearerToken(`${longest}a`)).to.equal(false);
  });
});

// Every reader of the header gives the row's answer: captureUserToken() makes the token current
// (or none), requireToken() lets the request through with it (the validator stands in for Texas
// and calls every token active) or refuses it as missing_token, and their Koa twins do the same.
describe('every reader of Authorization gives the same answer', () => {
  const validated: string[] = [];
  const validator: TokenValidator = {
    identityProvider: 'entra_id',
    endpoint: 'http://127.0.0.1:7164/api/v1/introspect',
    async validate(token) {
      validated.push(token);
      return { active: true, claims: { sub: 'anyone' } };
    },
    size: 0,
    clear() {},
  };
  const express = requireToken({ introspection: validator });
  const koa = requireTokenKoa({ introspection: validator });
  const capture = captureUserToken();
  const captureKoa = captureUserTokenKoa();

  /** The token requireToken() ran the request with, or 'refused' (missing_token). */
  const throughRequireToken = (authorization: Header) =>
    new Promise<string | undefined>((resolve, reject) =>
      express({ headers: { authorization } }, undefined, (error?: unknown) => {
        if (error === undefined) resolve(currentUserToken());
        else if (isAuthError(error) && error.code === 'missing_token') resolve('refused');
        else reject(new Error('the middleware passed on an unexpected error', { cause: error }));
      }),
    );
  const throughRequireTokenKoa = async (authorization: Header) => {
    try {
      return await koa({ headers: { authorization } }, async () => currentUserToken());
    } catch (error) {
      if (isAuthError(error) && error.code === 'missing_token') return 'refused';
      throw error;
    }
  };
  const throughCapture = (authorization: Header) =>
    new Promise<string | undefined>((resolve) => capture({ headers: { authorization } }, undefined, () => resolve(currentUserToken())));
  const throughCaptureKoa = (authorization: Header) => captureKoa({ headers: { authorization } }, async () => currentUserToken());

  for (const [what, header, token] of rows) {
    it(`${what}: ${token === undefined ? 'refused by requireToken(), no user token for captureUserToken()' : 'the token, for both'}`, async () => {
      validated.length = 0;
      // Inside another user's context: a header read as no token must not leave that one current.
      const answers = await withUserToken('outer-user', async () => ({
        requireToken: await throughRequireToken(header),
        requireTokenKoa: await throughRequireTokenKoa(header),
        captureUserToken: await throughCapture(header),
        captureUserTokenKoa: await throughCaptureKoa(header),
      }));
      const expected = {
        requireToken: token ?? 'refused',
        requireTokenKoa: token ?? 'refused',
        captureUserToken: token,
        captureUserTokenKoa: token,
      };
      expect(answers, label(header)).to.deep.equal(expected);
      expect(validated, 'tokens given to the validator').to.deep.equal(token === undefined ? [] : [token, token]);
    });
  }
});
