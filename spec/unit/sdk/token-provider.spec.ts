import { expect } from 'chai';
import { tokenProvider } from '../../../lib/sdk/token-provider.js';
import type { GetTokenOptions, TokenSource } from '../../../lib/types.js';

describe('tokenProvider(source, scope)', () => {
  it('resolves to the bare token of the scope, asking the source on every call (its cache decides)', async () => {
    const calls: [string, GetTokenOptions | undefined][] = [];
    let n = 0;
    const source: TokenSource = { getToken: async (scope, options) => (calls.push([scope, options]), { token: `t${++n}`, expiresAt: Date.now() + 60_000 }) };
    const getBearer = tokenProvider(source, 'api://x/.default');
    expect([await getBearer(), await getBearer()]).to.deep.equal(['t1', 't2']);
    const signal = new AbortController().signal;
    await getBearer({ signal });
    expect(calls.map(([scope, o]) => [scope, o?.signal])).to.deep.equal([
      ['api://x/.default', undefined],
      ['api://x/.default', undefined],
      ['api://x/.default', signal],
    ]);
  });

  it("rejects with the source's own error", async () => {
    const failure = new Error('no token');
    const getBearer = tokenProvider({ getToken: () => Promise.reject(failure) }, 'api://x/.default');
    expect(await getBearer().catch((e: unknown) => e)).to.equal(failure);
  });

  it('refuses a source without getToken and an empty scope with a TypeError at once', () => {
    expect(() => tokenProvider({} as TokenSource, 'api://x/.default')).to.throw(TypeError, /TokenSource/);
    expect(() => tokenProvider({ getToken: async () => ({ token: 't', expiresAt: 0 }) }, '')).to.throw(TypeError, /non-empty string/);
  });
});
