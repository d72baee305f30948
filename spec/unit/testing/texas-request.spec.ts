import { expect } from 'chai';
import { TexasError, answer, audienceFor, parse, required, type TexasContext } from '../../../lib/testing/texas-request.js';

const context = (enabled: string[], now = 0) => ({ enabled: new Set(enabled), now: () => now }) as unknown as TexasContext;

function refusal(run: () => unknown): TexasError {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(TexasError);
    return error as TexasError;
  }
  throw new Error('expected a TexasError');
}

describe('testing/texas-request', () => {
  it('reads JSON and form bodies; skip_cache a boolean in JSON, exactly true or false in a form; authorization_details JSON in a form', () => {
    expect(parse('application/json; charset=utf-8', '{"target":"t","skip_cache":true}')).to.deep.equal({ target: 't', skip_cache: true });
    expect(() => parse('application/json', '{"skip_cache":"true"}')).to.throw(SyntaxError, /expected a boolean/);
    expect(() => parse('application/json', '[1]')).to.throw(SyntaxError, /JSON object/);
    expect(parse('application/x-www-form-urlencoded', 'skip_cache=false&authorization_details=%5B%7B%22a%22%3A1%7D%5D')).to.deep.equal({
      skip_cache: false,
      authorization_details: [{ a: 1 }],
    });
    expect(refusal(() => parse('application/x-www-form-urlencoded', 'skip_cache=yes')).description).to.match(/not `true` or `false`/);
    expect(refusal(() => parse('application/x-www-form-urlencoded', 'authorization_details=%5B%7B'))).to.include({ status: 400, error: 'invalid_request' });
    expect(refusal(() => parse('application/x-www-form-urlencoded', 'authorization_details=%5B%7B')).description).to.match(
      /^Failed to deserialize form body: authorization_details: \S/,
    );
    expect(refusal(() => parse('text/plain', 'x'))).to.include({ status: 400, description: 'unsupported media type: text/plain' });
    expect(refusal(() => parse('', 'x')).description).to.equal('unsupported media type: none');
  });

  it('checks the required fields in Texas order, the provider variant, enabled and allowed, and gives azuread as entra_id', () => {
    const c = context(['entra_id', 'azuread', 'tokenx']);
    expect(refusal(() => required(c, {}, ['entra_id'], 'x')).description).to.match(/missing field `identity_provider`$/);
    expect(refusal(() => required(c, { identity_provider: 'entra_id' }, ['entra_id'], 'x')).description).to.match(/missing field `target`$/);
    expect(refusal(() => required(c, { identity_provider: 'entra_id', target: 't' }, ['entra_id'], 'x', ['user_token'])).description).to.match(
      /missing field `user_token`$/,
    );
    expect(refusal(() => required(c, { identity_provider: 'nope', target: 't' }, ['entra_id'], 'x')).description).to.match(/unknown variant `nope`$/);
    expect(refusal(() => required(c, { identity_provider: 'idporten', target: 't' }, ['idporten'], 'x')).description).to.equal(
      "identity provider 'idporten' is not enabled",
    );
    expect(refusal(() => required(c, { identity_provider: 'tokenx', target: 't' }, ['entra_id'], 'token requests')).description).to.equal(
      "identity provider 'tokenx' does not support token requests",
    );
    expect(required(c, { identity_provider: 'azuread', target: 't' }, ['azuread'], 'x')).to.deep.equal({ provider: 'entra_id', target: 't' });
  });

  it("gives Entra ID's audience for …/.default and c:ns:app, refuses other Entra targets as Entra words it, and passes other providers' targets", () => {
    expect(audienceFor('entra_id', 'api://c.ns.app/.default', 'token')).to.equal('api://c.ns.app');
    expect(audienceFor('entra_id', 'c:ns:app', 'exchange')).to.equal('api://c.ns.app');
    expect(audienceFor('tokenx', 'c:ns:app', 'exchange')).to.equal('c:ns:app');
    expect(refusal(() => audienceFor('entra_id', 'api://c.ns.app', 'token'))).to.include({ status: 400, error: 'invalid_scope' });
    expect(refusal(() => audienceFor('entra_id', 'api://c.ns.app', 'token')).description).to.match(/^AADSTS1002012: /);
    expect(refusal(() => audienceFor('entra_id', 'api://c.ns.app', 'exchange')).description).to.match(/^AADSTS70011: /);
  });

  it('answers exactly three fields, expires_in the remaining whole seconds', () => {
    expect(answer(context([], 10_500), { token: 't', mintedAt: 0, lifetime: 100 })).to.deep.equal({ access_token: 't', expires_in: 89, token_type: 'Bearer' });
  });
});
