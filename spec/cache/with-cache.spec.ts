import { expect } from 'chai';
import sinon from 'sinon';
import { withCache } from '../../lib/cache/with-cache.js';
import { TokenError } from '../../lib/errors.js';
import type { AccessToken, GetTokenOptions } from '../../lib/types.js';

interface Call {
  scope: string;
  options: GetTokenOptions;
  resolve(token: AccessToken): void;
  reject(error: unknown): void;
}

/** A fetch function whose calls the test answers by hand. */
function manualFetch() {
  const calls: Call[] = [];
  const fetch = (scope: string, options: GetTokenOptions) =>
    new Promise<AccessToken>((resolve, reject) => calls.push({ scope, options, resolve, reject }));
  return { calls, fetch };
}

/** A fetch function that answers at once with a numbered token of the given lifetime. */
function countingFetch(lifetimeMs = 3_600_000) {
  const calls: { scope: string; options: GetTokenOptions }[] = [];
  const fetch = async (scope: string, options: GetTokenOptions): Promise<AccessToken> => {
    calls.push({ scope, options });
    return { token: `${scope}#${calls.length}`, expiresAt: Date.now() + lifetimeMs };
  };
  return { calls, fetch };
}

const token = (value: string, lifetimeMs = 3_600_000): AccessToken => ({ token: value, expiresAt: Date.now() + lifetimeMs });

describe('withCache(fetch)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => clock.restore());
  /** Lets promise callbacks run (p-memoize calls the fetch a microtask after the call). */
  const settle = () => clock.tickAsync(0);

  it('fetches once for 100 calls for one scope', async () => {
    const { calls, fetch } = countingFetch();
    const source = withCache(fetch);
    for (let i = 0; i < 100; i++) expect((await source.getToken('s')).token).to.equal('s#1');
    expect(calls).to.have.length(1);
  });

  it('shares one fetch per scope among hundreds of concurrent cold callers', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const scopes = ['a', 'b', 'c', 'd'];
    const pending = Array.from({ length: 400 }, (_, i) => source.getToken(scopes[i % 4]!));
    await settle();
    expect(calls.map((c) => c.scope)).to.deep.equal(scopes);
    for (const call of calls) call.resolve(token(`${call.scope}-token`));
    const results = await Promise.all(pending);
    expect(results.every((r, i) => r.token === `${scopes[i % 4]}-token`)).to.equal(true);
  });

  it('fetches again once the margin is reached and never serves an expired token', async () => {
    const { calls, fetch } = countingFetch(100_000); // margins: 10 s serve, 25 s refresh
    const source = withCache(fetch, { refreshAhead: 0 });
    await source.getToken('s');
    await clock.tickAsync(89_999);
    expect((await source.getToken('s')).token).to.equal('s#1');
    await clock.tickAsync(1);
    expect((await source.getToken('s')).token).to.equal('s#2');
    expect(calls).to.have.length(2);
  });

  it('refreshes ahead in the background with one fetch while callers keep the current token', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const first = source.getToken('s');
    await settle();
    calls[0]!.resolve(token('old', 3_600_000));
    await first;
    await clock.tickAsync(3_600_000 - 59_000); // inside the 60 s refresh window
    const during = await Promise.all(Array.from({ length: 50 }, () => source.getToken('s')));
    await settle();
    expect(during.every((t) => t.token === 'old')).to.equal(true);
    expect(calls).to.have.length(2);
    expect(calls[1]!.options.forceRefresh).to.equal(false);
    calls[1]!.resolve(token('new'));
    await clock.tickAsync(0);
    expect((await source.getToken('s')).token).to.equal('new');
  });

  it('keeps serving the valid token when a background refresh fails, retries with backoff, and fails callers only when none is left', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const first = source.getToken('s');
    await settle();
    calls[0]!.resolve(token('old', 100_000)); // serve 90 s, refresh from 75 s
    await first;
    await clock.tickAsync(76_000);
    expect((await source.getToken('s')).token).to.equal('old');
    await settle();
    calls[1]!.reject(new TokenError('server_error', 'boom', { status: 500 }));
    await clock.tickAsync(0);
    expect((await source.getToken('s')).token).to.equal('old'); // no new fetch right away
    expect(calls).to.have.length(2);
    await clock.tickAsync(1_000);
    expect((await source.getToken('s')).token).to.equal('old');
    await settle();
    expect(calls).to.have.length(3); // tried again after the backoff
    calls[2]!.reject(new TokenError('server_error', 'boom again', { status: 500 }));
    await clock.tickAsync(14_000); // past the serving limit
    const waiters = [source.getToken('s'), source.getToken('s'), source.getToken('s')];
    await settle();
    const failure = new TokenError('server_error', 'still down', { status: 503 });
    calls[calls.length - 1]!.reject(failure);
    const errors = await Promise.all(waiters.map((w) => w.then(() => null, (e: unknown) => e)));
    expect(errors).to.deep.equal([failure, failure, failure]);
  });

  it('never caches a failure', async () => {
    let fail = true;
    const source = withCache(async () => {
      if (fail) throw new TokenError('network', 'down');
      return token('ok');
    });
    await source.getToken('s').then(() => expect.fail('should have failed'), () => {});
    fail = false;
    expect((await source.getToken('s')).token).to.equal('ok');
  });

  it('forces a refresh once for concurrent forced callers, and normal callers join it', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const first = source.getToken('s');
    await settle();
    calls[0]!.resolve(token('refused'));
    await first;
    const forced = Array.from({ length: 20 }, () => source.getToken('s', { forceRefresh: true }));
    const normal = source.getToken('s');
    await settle();
    expect(calls).to.have.length(2);
    expect(calls[1]!.options.forceRefresh).to.equal(true);
    calls[1]!.resolve(token('fresh'));
    const results = await Promise.all([...forced, normal]);
    expect(new Set(results.map((r) => r.token))).to.deep.equal(new Set(['fresh']));
  });

  it('forces a second fetch when a forced refresh joined a fetch that returned the refused token', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const first = source.getToken('s');
    await settle();
    calls[0]!.resolve(token('refused', 100_000));
    await first;
    await clock.tickAsync(80_000);
    await source.getToken('s'); // starts a background refresh (not forced)
    const forced = source.getToken('s', { forceRefresh: true }); // joins it
    await settle();
    expect(calls).to.have.length(2);
    calls[1]!.resolve(token('refused', 20_000)); // the endpoint answered from its own cache
    await clock.tickAsync(0);
    expect(calls).to.have.length(3);
    expect(calls[2]!.options.forceRefresh).to.equal(true);
    calls[2]!.resolve(token('fresh'));
    expect((await forced).token).to.equal('fresh');
  });

  it("ends only the aborting caller's wait, not the shared fetch", async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const controller = new AbortController();
    const aborted = source.getToken('s', { signal: controller.signal });
    const other = source.getToken('s');
    await settle();
    controller.abort();
    const reason = await aborted.then(() => null, (e: unknown) => e);
    expect(reason).to.be.instanceOf(DOMException).with.property('name', 'AbortError');
    expect(calls[0]!.options.signal?.aborted).to.equal(false);
    calls[0]!.resolve(token('t'));
    expect((await other).token).to.equal('t');
  });

  it('rejects with a signal that is already aborted, without fetching for it', async () => {
    const { fetch } = countingFetch();
    const source = withCache(fetch);
    const error = await source.getToken('s', { signal: AbortSignal.abort() }).then(() => null, (e: unknown) => e);
    expect(error).to.have.property('name', 'AbortError');
  });

  it('ends a hanging fetch at the deadline with code timeout and aborts its signal', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch, { timeout: 5_000, endpoint: 'http://127.0.0.1:7164/api/v1/token' });
    const pending = source.getToken('api://x/.default').then(() => null, (e: unknown) => e);
    await clock.tickAsync(4_999);
    expect(calls[0]!.options.signal?.aborted).to.equal(false);
    await clock.tickAsync(1);
    const error = (await pending) as TokenError;
    expect(error).to.be.instanceOf(TokenError);
    expect(error.code).to.equal('timeout');
    expect(error.message).to.equal(
      'token request for api://x/.default from http://127.0.0.1:7164/api/v1/token timed out after 5000 ms',
    );
    expect(calls[0]!.options.signal?.aborted).to.equal(true);
  });

  it('holds at most maxEntries scopes', async () => {
    const { fetch } = countingFetch();
    const source = withCache(fetch, { maxEntries: 100 });
    for (let i = 0; i < 1_000; i++) await source.getToken(`scope-${i}`);
    expect(source.size).to.equal(100);
    source.clear();
    expect(source.size).to.equal(0);
  });

  it('does not turn into a request per call when refreshes return the same token with a shrinking lifetime', async () => {
    // Texas answers from its cache with the same token and the remaining lifetime.
    const expiresAt = Date.now() + 300_000;
    let fetches = 0;
    const source = withCache(
      async () => {
        fetches += 1;
        return { token: 'same', expiresAt };
      },
      { refreshAhead: 10 * 60_000, expiryMargin: 10 * 60_000 }, // margins longer than the token: capped
    );
    for (let second = 0; second < 300; second++) {
      await source.getToken('s');
      await source.getToken('s');
      await clock.tickAsync(1_000);
    }
    expect(fetches).to.be.below(30); // a quarter of what is left each time, not one per call (600)
  });

  it('checks its options at once', () => {
    expect(() => withCache(async () => token('x'), { expiryMargin: -1 })).to.throw(
      TypeError,
      'axios-m2m: expected expiryMargin to be a number of milliseconds >= 0, got number -1',
    );
    expect(() => withCache(async () => token('x'), { maxEntries: 0 })).to.throw(TypeError, /maxEntries/);
    expect(() => withCache({} as never)).to.throw(TypeError, /source/);
  });

  it('keys entries with cacheKey', async () => {
    const { calls, fetch } = countingFetch();
    let user = 'u1';
    const source = withCache(fetch, { cacheKey: (scope) => `${user}:${scope}` });
    await source.getToken('s');
    user = 'u2';
    await source.getToken('s');
    user = 'u1';
    await source.getToken('s');
    expect(calls).to.have.length(2);
  });

  it('wraps an object source as well as a function', async () => {
    const { calls, fetch } = countingFetch();
    const source = withCache({ getToken: fetch });
    await source.getToken('s');
    await source.getToken('s');
    expect(calls).to.have.length(1);
  });
});
