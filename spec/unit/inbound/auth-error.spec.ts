import { expect } from 'chai';
import { AUTH_ERROR_CODES, AuthError, isAuthError } from '../../../lib/inbound/auth-error.js';

describe('AuthError', () => {
  it('keeps retryAfter in milliseconds and sends Retry-After in whole seconds, rounded up', () => {
    const cases: [number, string][] = [
      [1, '1'],
      [999, '1'],
      [1_000, '1'],
      [1_001, '2'],
      [60_000, '60'],
    ];
    for (const [ms, header] of cases) {
      const error = new AuthError('temporarily_unavailable', 'down', { retryAfter: ms });
      expect(error.retryAfter, String(ms)).to.equal(ms);
      expect(error.headers, String(ms)).to.deep.equal({ 'Retry-After': header });
    }
    expect(new AuthError('temporarily_unavailable', 'down').headers).to.deep.equal({});
  });

  it('answers each code with its status and WWW-Authenticate value', () => {
    const answers = AUTH_ERROR_CODES.map((code) => {
      const error = new AuthError(code, code);
      return [code, error.status, error.headers['WWW-Authenticate']];
    });
    expect(answers).to.deep.equal([
      ['missing_token', 401, 'Bearer'],
      ['invalid_token', 401, 'Bearer error="invalid_token"'],
      ['insufficient_scope', 403, 'Bearer error="insufficient_scope"'],
      ['temporarily_unavailable', 503, undefined],
    ]);
  });

  it('keeps its cause, exposes the message for 4xx only, and lets a framework assign its fields', () => {
    const cause = new Error('Texas down');
    const unavailable = new AuthError('temporarily_unavailable', 'down', { cause });
    expect(unavailable.cause).to.equal(cause);
    expect(Object.hasOwn(new AuthError('missing_token', 'no token'), 'cause')).to.equal(false);
    expect(unavailable.expose).to.equal(false);
    for (const code of ['missing_token', 'invalid_token', 'insufficient_scope'] as const) expect(new AuthError(code, 'x').expose, code).to.equal(true);
    const refused = new AuthError('invalid_token', 'not active', { reason: 'invalid token: ExpiredSignature' });
    // Koa's default handler assigns err.status (and throws on a read-only one in strict mode).
    refused.status = 500;
    refused.statusCode = 500;
    refused.expose = false;
    expect(refused).to.include({ status: 500, statusCode: 500, expose: false });
    delete (refused as { reason?: string }).reason;
    expect(refused.reason).to.equal(undefined);
    expect(Object.keys(new AuthError('invalid_token', 'x'))).to.deep.equal(['code', 'status', 'statusCode', 'expose', 'headers']);
  });

  it('is recognised by a brand, not by its class', () => {
    const error = new AuthError('missing_token', 'no token');
    expect(isAuthError(error)).to.equal(true);
    expect(error).to.be.instanceOf(AuthError);
    expect(isAuthError(new Error('x'))).to.equal(false);
    expect(isAuthError({ code: 'missing_token' })).to.equal(false);
    for (const value of [null, undefined, 'AuthError', 401]) expect(isAuthError(value), String(value)).to.equal(false);
    expect(isAuthError({ [Symbol.for('axios-m2m.AuthError')]: true })).to.equal(true); // another copy's error
  });
});
