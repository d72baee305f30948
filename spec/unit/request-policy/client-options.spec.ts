import { expect } from 'chai';
import { checkClientOptions } from '../../../lib/request-policy/client-options.js';
import type { TokenSource } from '../../../lib/types.js';

const source: TokenSource = { getToken: async () => ({ token: 't', expiresAt: Date.now() + 60_000 }) };
const check = (options: Record<string, unknown>) => () => checkClientOptions(options as never);

describe('request-policy/client-options', () => {
  it('refuses a source without getToken, naming the option and what it got', () => {
    for (const [given, got] of [
      [undefined, 'undefined'],
      [null, 'null'],
      [{}, 'an object'],
      [{ getToken: 'x' }, 'an object'],
    ] as const) {
      expect(check({ source: given }), got).to.throw(TypeError, `axios-m2m: expected source to be a TokenSource (an object with getToken), got ${got}`);
    }
  });

  it('takes no scope, a non-empty string or a function, and refuses anything else', () => {
    for (const scope of [undefined, 's', () => 's']) expect(check({ source, scope })).to.not.throw();
    for (const [scope, got] of [
      ['', '""'],
      [42, 'number 42'],
      [null, 'null'],
      [{}, 'an object'],
    ] as const) {
      expect(check({ source, scope }), got).to.throw(TypeError, `axios-m2m: expected scope to be a non-empty string or a function, got ${got}`);
    }
  });

  it('returns retryOn as given, [401] when absent, and refuses what is not a list of integer statuses', () => {
    const given = [401, 403];
    expect(checkClientOptions({ source, retryOn: given })).to.equal(given);
    expect(checkClientOptions({ source, retryOn: [] })).to.deep.equal([]);
    expect(checkClientOptions({ source })).to.deep.equal([401]);
    for (const [retryOn, got] of [
      ['401', '"401"'],
      [[401, '403'], 'an array'],
      [[401.5], 'an array'],
      [{}, 'an object'],
    ] as const) {
      expect(check({ source, retryOn }), got).to.throw(TypeError, `axios-m2m: expected retryOn to be an array of HTTP statuses, got ${got}`);
    }
  });

  it('names the first option wrong: source, then scope, then retryOn', () => {
    expect(check({ scope: '', retryOn: 'x' })).to.throw(TypeError, /expected source/);
    expect(check({ source, scope: '', retryOn: 'x' })).to.throw(TypeError, /expected scope/);
  });
});
