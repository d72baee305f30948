import { expect } from 'chai';
import { tokenFetch, type FetchFunction } from '../../../lib/fetch/token-fetch.js';
import type { TokenSource } from '../../../lib/types.js';

// The wrapper's own decisions, with a fake fetch and a fake source: the loopback behaviour (real
// redirects, streams, storms) is in spec/integration/fetch/.

function fakeSource() {
  const calls: { scope: string; forceRefresh: boolean }[] = [];
  const source: TokenSource = {
    async getToken(scope, options = {}) {
      calls.push({ scope, forceRefresh: options.forceRefresh === true });
      return { token: `${scope}#${calls.filter((c) => c.forceRefresh).length}`, expiresAt: Date.now() + 60_000 };
    },
  };
  return { source, calls };
}

function fakeFetch(statuses: number[]) {
  const sent: { url: string; authorization: string | null; init: RequestInit | undefined }[] = [];
  const send: FetchFunction = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    sent.push({ url, authorization: new Headers(init?.headers).get('authorization'), init });
    return new Response('body', { status: statuses.shift() ?? 200 });
  };
  return { send, sent };
}

describe('tokenFetch (unit)', () => {
  it('refuses bad options with a TypeError at creation', () => {
    const { source } = fakeSource();
    expect(() => tokenFetch({ source: {} as TokenSource, origins: ['https://a.example'] })).to.throw(TypeError, /source/);
    expect(() => tokenFetch({ source, scope: '', origins: ['https://a.example'] })).to.throw(TypeError, /scope/);
    expect(() => tokenFetch({ source, origins: ['https://a.example'], fetch: 'x' as never })).to.throw(TypeError, /fetch/);
    expect(() => tokenFetch({ source, origins: ['https://a.example'], retryOn: [401.5] })).to.throw(TypeError, /retryOn/);
  });

  it('uses the global fetch as it is at request time when none is given', async () => {
    const { source } = fakeSource();
    const { send, sent } = fakeFetch([]);
    const original = globalThis.fetch;
    const wrapped = tokenFetch({ source, scope: 's', origins: ['https://a.example'] });
    globalThis.fetch = send;
    try {
      await wrapped('https://a.example/x');
    } finally {
      globalThis.fetch = original;
    }
    expect(sent.map((s) => s.authorization)).to.deep.equal(['Bearer s#0']);
  });

  it("keeps a Request's headers unless init gives its own, as new Request(input, init) does", async () => {
    const { source } = fakeSource();
    const { send, sent } = fakeFetch([]);
    const wrapped = tokenFetch({ source, scope: 's', origins: ['https://a.example'], fetch: send });
    await wrapped(new Request('https://a.example/x', { headers: { 'x-from-request': '1' } }));
    await wrapped(new Request('https://a.example/y', { headers: { 'x-from-request': '1' } }), { headers: { 'x-from-init': '1' } });
    const headers = sent.map((s) => Object.fromEntries(new Headers(s.init?.headers)));
    expect(headers).to.deep.equal([
      { authorization: 'Bearer s#0', 'x-from-request': '1' },
      { authorization: 'Bearer s#0', 'x-from-init': '1' },
    ]);
  });

  it('retries once, with the refreshed token, and hands back the second answer whatever it is', async () => {
    const { source, calls } = fakeSource();
    const { send, sent } = fakeFetch([401, 500]);
    const response = await tokenFetch({ source, scope: 's', origins: ['https://a.example'], fetch: send })('https://a.example/x');
    expect(response.status).to.equal(500);
    expect(sent.map((s) => s.authorization)).to.deep.equal(['Bearer s#0', 'Bearer s#1']);
    expect(calls.map((c) => c.forceRefresh)).to.deep.equal([false, false, true]);
  });

  it('sends a relative URL (no origin to tell) as it is, without asking for a token', async () => {
    const { source, calls } = fakeSource();
    const { send, sent } = fakeFetch([]);
    await tokenFetch({ source, scope: 's', origins: ['https://a.example'], fetch: send })('/relative');
    expect(sent.map((s) => [s.url, s.authorization])).to.deep.equal([['/relative', null]]);
    expect(calls).to.have.length(0);
  });
});
