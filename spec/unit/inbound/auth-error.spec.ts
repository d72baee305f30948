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

  it('is recognised by a brand, not by its class', () => {
    const error = new AuthError('missing_token', 'no token');
    expect(isAuthError(error)).to.equal(true);
    expect(error).to.be.instanceOf(AuthError);
    expect(isAuthError(new Error('x'))).to.equal(false);
    expect(isAuthError({ code: 'missing_token' })).to.equal(false);
  });
});
