import { expect } from 'chai';
import sinon from 'sinon';
import { withCache } from '../../../lib/cache/with-cache.js';
import { TokenError } from '../../../lib/errors.js';
import { subscribe, type TokenRequestEvent } from '../../../lib/events.js';
import type { AccessToken, GetTokenOptions } from '../../../lib/types.js';

interface Call {
  scope: string;
  options: GetTokenOptions;
  resolve(token: AccessToken): void;
  reject(error: unknown): void;
}

/** A fetch function whose calls the test answers by hand. */
function manualFetch() {
  const calls: Call[] = [];
  const fetch = (scope: string, options: GetTokenOptions) => new Promise<AccessToken>((resolve, reject) => calls.push({ scope, options, resolve, reject }));
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
  /** Lets promise callbacks run. */
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
    const errors = await Promise.all(
      waiters.map((w) =>
        w.then(
          () => null,
          (e: unknown) => e,
        ),
      ),
    );
    expect(errors).to.deep.equal([failure, failure, failure]);
  });

  it('never caches a failure', async () => {
    let fail = true;
    const source = withCache(async () => {
      if (fail) throw new TokenError('network', 'down');
      return token('ok');
    });
    await source.getToken('s').then(
      () => expect.fail('should have failed'),
      () => {},
    );
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
    const reason = await aborted.then(
      () => null,
      (e: unknown) => e,
    );
    expect(reason).to.be.instanceOf(DOMException).with.property('name', 'AbortError');
    expect(calls[0]!.options.signal?.aborted).to.equal(false);
    calls[0]!.resolve(token('t'));
    expect((await other).token).to.equal('t');
  });

  it('rejects with a signal that is already aborted, without fetching for it', async () => {
    const { calls, fetch } = countingFetch();
    const source = withCache(fetch);
    for (const forceRefresh of [false, true]) {
      const error = await source.getToken('s', { signal: AbortSignal.abort(), forceRefresh }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.have.property('name', 'AbortError');
    }
    await settle();
    expect(calls).to.have.length(0);
    expect(source.size).to.equal(0);
  });

  it("does not let the last caller's abort end the fetch it joined: the others get the token", async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const first = source.getToken('s');
    const second = source.getToken('s', { signal: new AbortController().signal });
    const controller = new AbortController();
    const last = source.getToken('s', { signal: controller.signal });
    await settle();
    expect(calls).to.have.length(1);
    controller.abort();
    expect(
      await last.then(
        () => null,
        (e: unknown) => e,
      ),
    ).to.have.property('name', 'AbortError');
    expect(calls[0]!.options.signal?.aborted).to.equal(false);
    calls[0]!.resolve(token('t'));
    expect((await first).token).to.equal('t');
    expect((await second).token).to.equal('t');
    expect(calls).to.have.length(1);
  });

  it('keeps the fetch going when the caller that started it aborts before anyone joins; a later caller gets its token', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const controller = new AbortController();
    const starter = source.getToken('s', { signal: controller.signal });
    await settle();
    controller.abort(new Error('gave up'));
    expect(
      await starter.then(
        () => null,
        (e: unknown) => e,
      ),
    ).to.have.property('message', 'gave up');
    const later = source.getToken('s');
    await settle();
    expect(calls).to.have.length(1); // joined, not started again
    expect(calls[0]!.options.signal?.aborted).to.equal(false);
    calls[0]!.resolve(token('t'));
    expect((await later).token).to.equal('t');
    expect(source.size).to.equal(1);
  });

  it('ends a hanging fetch at the deadline with code timeout and aborts its signal', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch, { timeout: 5_000, endpoint: 'http://127.0.0.1:7164/api/v1/token' });
    const pending = source.getToken('api://x/.default').then(
      () => null,
      (e: unknown) => e,
    );
    await clock.tickAsync(4_999);
    expect(calls[0]!.options.signal?.aborted).to.equal(false);
    await clock.tickAsync(1);
    const error = (await pending) as TokenError;
    expect(error).to.be.instanceOf(TokenError);
    expect(error.code).to.equal('timeout');
    expect(error.message).to.equal('token request for api://x/.default from http://127.0.0.1:7164/api/v1/token timed out after 5000 ms');
    expect(calls[0]!.options.signal?.aborted).to.equal(true);
  });

  it('holds the deadline against a fetcher that ignores its signal, and drops the late answer', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch, { timeout: 5_000 });
    const waiters = [source.getToken('s'), source.getToken('s')].map((w) =>
      w.then(
        () => null,
        (e: unknown) => e,
      ),
    );
    await clock.tickAsync(5_000);
    const errors = (await Promise.all(waiters)) as TokenError[];
    expect(errors.map((e) => e.code)).to.deep.equal(['timeout', 'timeout']);
    calls[0]!.resolve(token('late')); // the fetcher ignored the abort and answers anyway
    await settle();
    expect(source.size).to.equal(0);
    const next = source.getToken('s');
    await settle();
    expect(calls).to.have.length(2); // a new fetch, not the late token
    calls[1]!.resolve(token('fresh'));
    expect((await next).token).to.equal('fresh');
  });

  it("names the endpoint in a timeout's message and fields only when the cache was given one", async () => {
    const endpoint = 'http://127.0.0.1:7164/api/v1/token';
    const timeoutOf = async (options: { endpoint?: string }) => {
      const pending = withCache(manualFetch().fetch, { timeout: 1_000, ...options })
        .getToken('s')
        .then(
          () => null,
          (e: unknown) => e,
        );
      await clock.tickAsync(1_000);
      return (await pending) as TokenError;
    };
    const named = await timeoutOf({ endpoint });
    expect(named.message).to.equal(`token request for s from ${endpoint} timed out after 1000 ms`);
    expect(named.endpoint).to.equal(endpoint);
    const unnamed = await timeoutOf({});
    expect(unnamed.message).to.equal('token request for s timed out after 1000 ms');
    expect(unnamed).to.not.have.property('endpoint');
  });

  it('gives request events an endpoint field only when the cache was given one', async () => {
    const seen: TokenRequestEvent[] = [];
    const stop = subscribe('axios-m2m:token:request', (event) => seen.push(event));
    try {
      const endpoint = 'http://127.0.0.1:7164/api/v1/token';
      await withCache(countingFetch().fetch, { endpoint }).getToken('s');
      await withCache(countingFetch().fetch).getToken('s');
    } finally {
      stop();
    }
    expect(seen.map((event) => Object.keys(event).includes('endpoint'))).to.deep.equal([true, false]);
    expect(seen[0]!.endpoint).to.equal('http://127.0.0.1:7164/api/v1/token');
  });

  it('does not end a fetch that answers just before the deadline', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch, { timeout: 5_000 });
    const pending = source.getToken('s');
    await clock.tickAsync(4_999);
    calls[0]!.resolve(token('in time'));
    await clock.tickAsync(1);
    expect((await pending).token).to.equal('in time');
    expect(calls[0]!.options.signal?.aborted).to.equal(false);
  });

  describe('a failing background refresh', () => {
    /** A cached token of 100 s (serve 90 s, refresh from 75 s), then 76 s on: a refresh is due. */
    async function dueForRefresh() {
      const { calls, fetch } = manualFetch();
      const source = withCache(fetch);
      const first = source.getToken('s');
      await settle();
      calls[0]!.resolve(token('old', 100_000));
      await first;
      await clock.tickAsync(76_000);
      return { calls, source };
    }
    /** A call that serves the current token and may start a refresh, and lets that refresh begin. */
    async function call(source: ReturnType<typeof withCache>) {
      const served = (await source.getToken('s')).token;
      await settle();
      return served;
    }

    it('keeps serving, backs off (1 s, then 2 s), retries, and serves the new token once a retry succeeds', async () => {
      sinon.stub(Math, 'random').returns(1); // no jitter: the backoff is exactly 1 s, then 2 s
      try {
        const { calls, source } = await dueForRefresh();
        expect(await call(source)).to.equal('old');
        expect(calls).to.have.length(2);
        calls[1]!.reject(new TokenError('server_error', 'down', { status: 503 }));
        await settle();
        await clock.tickAsync(999);
        expect(await call(source)).to.equal('old');
        expect(calls).to.have.length(2); // still backing off
        await clock.tickAsync(1);
        expect(await call(source)).to.equal('old');
        expect(calls).to.have.length(3); // retried after 1 s
        calls[2]!.reject(new TokenError('server_error', 'down', { status: 503 }));
        await settle();
        await clock.tickAsync(1_999);
        expect(await call(source)).to.equal('old');
        expect(calls).to.have.length(3); // the second backoff is 2 s
        await clock.tickAsync(1);
        expect(await call(source)).to.equal('old');
        expect(calls).to.have.length(4);
        calls[3]!.resolve(token('new', 100_000));
        await settle();
        expect(await call(source)).to.equal('new');
        expect(calls).to.have.length(4); // the new token is fresh: no refresh
      } finally {
        sinon.restore();
      }
    });

    it('starts over at 1 s after a success: the backoff belongs to one token', async () => {
      sinon.stub(Math, 'random').returns(1);
      try {
        const { calls, source } = await dueForRefresh();
        await call(source);
        calls[1]!.reject(new TokenError('server_error', 'down'));
        await settle();
        await clock.tickAsync(1_000);
        await call(source);
        calls[2]!.resolve(token('new', 100_000));
        await settle();
        await clock.tickAsync(76_000); // the new token is due for its own refresh
        expect(await call(source)).to.equal('new');
        expect(calls).to.have.length(4);
        calls[3]!.reject(new TokenError('server_error', 'down'));
        await settle();
        await clock.tickAsync(1_000);
        await call(source);
        expect(calls).to.have.length(5);
      } finally {
        sinon.restore();
      }
    });
  });

  describe('the forced second fetch (a fetch that returns the refused token)', () => {
    it('is not made when the fetch a forced caller joined returns another token', async () => {
      const { calls, fetch } = manualFetch();
      const source = withCache(fetch);
      const first = source.getToken('s');
      await settle();
      calls[0]!.resolve(token('refused', 100_000));
      await first;
      await clock.tickAsync(80_000);
      await source.getToken('s'); // a background refresh
      const forced = source.getToken('s', { forceRefresh: true }); // joins it
      await settle();
      calls[1]!.resolve(token('other'));
      expect((await forced).token).to.equal('other');
      await settle();
      expect(calls).to.have.length(2);
    });

    it('is made for a plain caller whose fetch, after a 401, returns the refused token again', async () => {
      const { calls, fetch } = manualFetch();
      const source = withCache(fetch);
      const first = source.getToken('s');
      await settle();
      calls[0]!.resolve(token('refused'));
      await first;
      const forced = source.getToken('s', { forceRefresh: true });
      await settle();
      calls[1]!.reject(new TokenError('server_error', 'down')); // the forced refresh fails
      await forced.catch(() => {});
      const plain = source.getToken('s'); // the entry is still marked refused: a miss
      await settle();
      expect(calls[2]!.options.forceRefresh).to.equal(false);
      calls[2]!.resolve(token('refused')); // e.g. Texas, from its own cache
      await settle();
      expect(calls).to.have.length(4);
      expect(calls[3]!.options.forceRefresh).to.equal(true);
      calls[3]!.resolve(token('fresh'));
      expect((await plain).token).to.equal('fresh');
    });

    it('is not repeated when a forced fetch itself returns the refused token: no loop', async () => {
      const { calls, fetch } = manualFetch();
      const source = withCache(fetch);
      const first = source.getToken('s');
      await settle();
      calls[0]!.resolve(token('refused'));
      await first;
      const forced = source.getToken('s', { forceRefresh: true });
      await settle();
      calls[1]!.resolve(token('refused')); // the endpoint insists
      expect((await forced).token).to.equal('refused'); // the API decides again; the interceptor retries once
      await settle();
      expect(calls).to.have.length(2);
    });
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
    expect(() => withCache({} as never)).to.throw(TypeError, 'axios-m2m: expected source to be a TokenSource or a fetch function, got');
    expect(() => withCache(null as never)).to.throw(TypeError, 'axios-m2m: expected source to be a TokenSource or a fetch function, got null');
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
