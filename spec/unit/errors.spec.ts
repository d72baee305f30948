import { expect } from 'chai';
import { inspect } from 'node:util';
import { LOCAL_ERROR_CODES, OAUTH_ERROR_CODES, TokenError, codeForOAuthError, failureFields, isTokenError, type TokenErrorCode } from '../../lib/errors.js';

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
    const foreign = Object.create(Object.getPrototypeOf(error) as object) as object;
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

  it('has a closed set of codes: the local ones, unknown included, and the documented OAuth ones', () => {
    expect(LOCAL_ERROR_CODES).to.deep.equal(['bad_response', 'network', 'timeout', 'throttled', 'configuration', 'no_user_token', 'unknown']);
    // A mapped type over TokenErrorCode: the compiler fails this spec when a code is added to the
    // type without a row here, or when the type is widened to any string again.
    const rows: { readonly [K in TokenErrorCode]: true } = {
      bad_response: true,
      network: true,
      timeout: true,
      throttled: true,
      configuration: true,
      no_user_token: true,
      unknown: true,
      invalid_request: true,
      invalid_client: true,
      invalid_grant: true,
      unauthorized_client: true,
      unsupported_grant_type: true,
      invalid_scope: true,
      invalid_target: true,
      invalid_resource: true,
      access_denied: true,
      server_error: true,
      temporarily_unavailable: true,
      interaction_required: true,
      consent_required: true,
      login_required: true,
    };
    expect([...LOCAL_ERROR_CODES, ...OAUTH_ERROR_CODES]).to.have.members(Object.keys(rows));
    // @ts-expect-error: a code outside the set does not type-check
    const outside: TokenErrorCode = 'made_up';
    void outside;
  });

  it('a switch over every code is exhaustive: the default branch is never reached', () => {
    const exhaustive = (code: TokenErrorCode): string => {
      switch (code) {
        case 'bad_response':
        case 'network':
        case 'timeout':
        case 'throttled':
        case 'configuration':
        case 'no_user_token':
        case 'unknown':
          return 'local';
        case 'invalid_request':
        case 'invalid_client':
        case 'invalid_grant':
        case 'unauthorized_client':
        case 'unsupported_grant_type':
        case 'invalid_scope':
        case 'invalid_target':
        case 'invalid_resource':
        case 'access_denied':
        case 'server_error':
        case 'temporarily_unavailable':
        case 'interaction_required':
        case 'consent_required':
        case 'login_required':
          return 'oauth';
        default: {
          const never: never = code;
          return never;
        }
      }
    };
    expect(LOCAL_ERROR_CODES.map(exhaustive)).to.deep.equal(LOCAL_ERROR_CODES.map(() => 'local'));
    expect(OAUTH_ERROR_CODES.map(exhaustive)).to.deep.equal(OAUTH_ERROR_CODES.map(() => 'oauth'));
  });

  it('keeps a documented OAuth error as the code, and makes any other one unknown', () => {
    for (const code of OAUTH_ERROR_CODES) expect(codeForOAuthError(code)).to.equal(code);
    expect(codeForOAuthError('invalid_dpop_proof')).to.equal('unknown');
    expect(codeForOAuthError('Invalid_Client')).to.equal('unknown');
    expect(codeForOAuthError('bad_response')).to.equal('unknown'); // a local code is never the endpoint's
    expect(codeForOAuthError('toString')).to.equal('unknown');
  });

  it("reports a TokenError's code and status for events, and unknown for any other error", () => {
    expect(failureFields(new TokenError('server_error', 'x', { status: 503 }))).to.deep.equal({ code: 'server_error', status: 503 });
    expect(failureFields(new TokenError('network', 'x'))).to.deep.equal({ code: 'network' });
    expect(failureFields(new Error('custom'))).to.deep.equal({ code: 'unknown' });
    expect(failureFields('thrown string')).to.deep.equal({ code: 'unknown' });
  });
});
