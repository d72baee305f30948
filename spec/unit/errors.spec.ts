import { expect } from 'chai';
import { inspect } from 'node:util';
import { LOCAL_ERROR_CODES, TokenError, isTokenError, type TokenErrorCode } from '../../lib/errors.js';

describe('TokenError', () => {
  const error = new TokenError('invalid_client', 'token request for api://x/.default failed: 401 invalid_client', {
    status: 401,
    scope: 'api://x/.default',
    endpoint: 'https://login.example/t/oauth2/v2.0/token',
    errorCodes: [7000215],
    traceId: 'trace',
    correlationId: 'correlation',
  });

  it('is an Error named TokenError with its code and details as properties', () => {
    expect(error).to.be.instanceOf(Error);
    expect(error.name).to.equal('TokenError');
    expect(error).to.deep.include({ code: 'invalid_client', status: 401, errorCodes: [7000215], traceId: 'trace' });
    expect(String(error)).to.equal('TokenError: token request for api://x/.default failed: 401 invalid_client');
  });

  it('leaves out the fields that are not set', () => {
    const bare = new TokenError('network', 'down');
    expect(Object.keys(bare)).to.deep.equal(['code']);
    expect(JSON.parse(JSON.stringify(bare))).to.deep.equal({ name: 'TokenError', message: 'down', code: 'network' });
  });

  it('serialises to JSON with its name, message and fields', () => {
    expect(JSON.parse(JSON.stringify(error))).to.deep.include({
      name: 'TokenError',
      message: error.message,
      code: 'invalid_client',
      status: 401,
    });
  });

  it('is recognised across copies of the package by a global brand', () => {
    const foreign = Object.create(Object.getPrototypeOf(error)) as object;
    const copy = { [Symbol.for('axios-m2m.TokenError')]: true };
    expect(isTokenError(error)).to.equal(true);
    expect(isTokenError(copy)).to.equal(true);
    expect(copy instanceof TokenError).to.equal(true);
    expect(isTokenError(foreign)).to.equal(true);
    expect(isTokenError(new Error('x'))).to.equal(false);
    expect(isTokenError(null)).to.equal(false);
  });

  it('keeps a cause', () => {
    const cause = new Error('ECONNREFUSED');
    expect(new TokenError('network', 'x', { cause }).cause).to.equal(cause);
    expect(inspect(new TokenError('network', 'x', { cause }))).to.include('ECONNREFUSED');
  });

  it('narrows its code in a switch', () => {
    const describe = (code: TokenErrorCode): string => {
      switch (code) {
        case 'throttled':
          return 'wait';
        case 'invalid_client':
          return 'secret';
        default:
          return 'other';
      }
    };
    expect(describe(error.code)).to.equal('secret');
    expect(LOCAL_ERROR_CODES).to.include.members(['bad_response', 'network', 'timeout', 'throttled', 'configuration', 'no_user_token']);
  });
});
