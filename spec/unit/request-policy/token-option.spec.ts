import { expect } from 'chai';
import { checkTokenOption, scopeFor } from '../../../lib/request-policy/token-option.js';

describe('request-policy/token-option', () => {
  it('checkTokenOption: accepts {} and { scope }, refuses strings, booleans, numbers, arrays and empty scopes', () => {
    expect(() => checkTokenOption({})).to.not.throw();
    expect(() => checkTokenOption({ scope: 'api://x/.default' })).to.not.throw();
    expect(() => checkTokenOption('api://x/.default')).to.throw(TypeError, /a scope goes in an object, token: \{ scope: "api:\/\/x\/.default" \}/);
    for (const bad of [true, 0, [], { scope: '' }, { scope: 7 }]) expect(() => checkTokenOption(bad), JSON.stringify(bad)).to.throw(TypeError);
  });

  it('checkTokenOption: takes { user } as a non-empty string, refuses anything else without quoting it', () => {
    expect(() => checkTokenOption({ user: 'Bearer abc' })).to.not.throw();
    expect(() => checkTokenOption({ scope: 'api://x/.default', user: 'abc' })).to.not.throw();
    expect(() => checkTokenOption({ user: undefined })).to.not.throw();
    for (const bad of ['', '  ', 7, null, {}, ['abc']]) {
      expect(() => checkTokenOption({ user: bad }), JSON.stringify(bad)).to.throw(
        TypeError,
        /^axios-m2m: expected the request option token\.user to be the user's token \(a non-empty string\), got /,
      );
    }
    expect(() => checkTokenOption({ user: ' ' })).to.throw(TypeError, /got an empty string$/);
  });

  const described = () => 'GET /things';
  it("scopeFor: the request's scope, else the fallback string, else the fallback function's answer", () => {
    expect(scopeFor({ scope: 'api://request/.default' }, 'api://fallback/.default', 'req', described, 'remedy')).to.equal('api://request/.default');
    expect(scopeFor(null, 'api://fallback/.default', 'req', described, 'remedy')).to.equal('api://fallback/.default');
    expect(scopeFor(undefined, (r: string) => `api://${r}/.default`, 'req', described, 'remedy')).to.equal('api://req/.default');
  });

  it('scopeFor: no scope at all, and a bad function answer, are TypeErrors naming the request and the remedy', () => {
    expect(() => scopeFor(undefined, undefined, 'req', described, 'give it one')).to.throw(TypeError, 'axios-m2m: no scope for GET /things: give it one');
    expect(() => scopeFor(undefined, () => '', 'req', described, 'give it one')).to.throw(TypeError, /scope function to return/);
  });
});
