import { expect } from 'chai';
import sinon from 'sinon';
import { TokenStore } from '../../../lib/cache/token-store.js';

const policy = { expiryMargin: 30_000, refreshAhead: 60_000, maxEntries: 3 };

describe('TokenStore', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['Date', 'performance'] });
  });
  afterEach(() => clock.restore());

  function put(store: TokenStore, key: string, lifetimeMs: number, token = key): void {
    store.set(key, { token: { token, expiresAt: Date.now() + lifetimeMs }, requestedAt: Date.now() });
  }

  it('serves an hour-long token until 30 s before expiry, not at 30 s', () => {
    const store = new TokenStore(policy);
    put(store, 'a', 3_600_000);
    clock.tick(3_600_000 - 30_001);
    expect(store.lookup('a')?.token.token).to.equal('a');
    clock.tick(1);
    expect(store.lookup('a')).to.equal(undefined);
  });

  it('asks for a refresh from 60 s before expiry on, while still serving', () => {
    const store = new TokenStore(policy);
    put(store, 'a', 3_600_000);
    clock.tick(3_600_000 - 60_001);
    expect(store.lookup('a')?.refreshDue).to.equal(false);
    clock.tick(1);
    expect(store.lookup('a')?.refreshDue).to.equal(true); // a fetch is due
    expect(store.lookup('a')?.token.token).to.equal('a'); // and the token is still served
  });

  it('keeps a 5-second token cached for 4.5 s and never serves it after that', () => {
    const store = new TokenStore(policy);
    put(store, 'a', 5_000);
    clock.tick(4_499);
    expect(store.lookup('a')?.token.token).to.equal('a');
    expect(store.lookup('a')?.refreshDue).to.equal(true); // a quarter of 5 s: from 3.75 s on
    clock.tick(1);
    expect(store.lookup('a')).to.equal(undefined);
  });

  it('counts the lifetime from when the request was sent, not from when the answer came', () => {
    const store = new TokenStore(policy);
    const requestedAt = Date.now();
    clock.tick(2_000); // the answer took 2 s
    store.set('a', { token: { token: 'a', expiresAt: requestedAt + 10_000 }, requestedAt });
    clock.tick(6_999); // 10 s lifetime, margin 1 s: served until requestedAt + 9 s
    expect(store.lookup('a')).to.not.equal(undefined);
    clock.tick(1);
    expect(store.lookup('a')).to.equal(undefined);
  });

  it('evicts the oldest written entry beyond maxEntries', () => {
    const store = new TokenStore(policy);
    for (const key of ['a', 'b', 'c', 'd']) put(store, key, 3_600_000);
    expect(store.size).to.equal(3);
    expect(store.lookup('a')).to.equal(undefined);
    put(store, 'b', 3_600_000); // rewritten: now the newest
    put(store, 'e', 3_600_000);
    expect([...['b', 'c', 'd', 'e']].map((k) => store.lookup(k) !== undefined)).to.deep.equal([true, false, true, true]);
  });

  it('keeps no token that arrives with no serving time left: it takes no slot, and no live token is evicted for it', () => {
    const store = new TokenStore(policy);
    for (const key of ['a', 'b', 'c']) put(store, key, 3_600_000);
    put(store, 'late', 0); // no sweep is due: only the bound could make room
    expect(store.size).to.equal(3);
    expect(['a', 'b', 'c', 'late'].map((k) => store.lookup(k) !== undefined)).to.deep.equal([true, true, true, false]);
  });

  it('stops serving a rejected token and recognises it', () => {
    const store = new TokenStore(policy);
    put(store, 'a', 3_600_000, 'tok');
    expect(store.reject('a')).to.equal('tok');
    expect(store.lookup('a')).to.equal(undefined);
    expect(store.isRejected('a', 'tok')).to.equal(true);
    expect(store.isRejected('a', 'other')).to.equal(false);
    put(store, 'a', 3_600_000, 'new');
    expect(store.isRejected('a', 'tok')).to.equal(false);
  });

  it('times the backoff after a failed refresh on the monotonic clock: a wall-clock step forward does not cut it short', () => {
    const store = new TokenStore(policy);
    put(store, 'a', 1_000_000); // serve until 970 s, refresh from 940 s
    clock.tick(945_000);
    store.refreshFailed('a'); // the next refresh from 0.5-1 s on
    clock.setSystemTime(Date.now() + 10_000); // the wall clock jumps; no time has passed
    expect(store.lookup('a')?.refreshDue).to.equal(false); // still fresh: no fetch is due
    clock.tick(1_000);
    expect(store.lookup('a')?.refreshDue).to.equal(true);
  });

  it('never serves an entry past the moment it stops being served, whatever the backoff', () => {
    const store = new TokenStore(policy);
    put(store, 'a', 100_000); // serve until 90 s
    clock.tick(89_500);
    for (let i = 0; i < 10; i++) store.refreshFailed('a'); // a backoff of 15-30 s
    expect(store.lookup('a')?.refreshDue).to.equal(false);
    clock.tick(500);
    expect(store.lookup('a')).to.equal(undefined);
  });

  it('reads the clock at each call: a store made before the clock was faked follows the fake one', () => {
    clock.restore();
    const store = new TokenStore(policy);
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['Date', 'performance'] });
    put(store, 'a', 100_000);
    expect(store.size).to.equal(1);
    expect(store.lookup('a')?.token.token).to.equal('a');
  });

  it('still recognises a refused token past the moment it stops being served, until a sweep or a new token', () => {
    const store = new TokenStore(policy);
    put(store, 'a', 100_000, 'tok'); // served until 90 s
    store.reject('a');
    clock.tick(95_000);
    expect(store.lookup('a')).to.equal(undefined);
    expect(store.isRejected('a', 'tok'), 'a lookup of a refused entry drops nothing').to.equal(true);
    store.sweep();
    expect(store.isRejected('a', 'tok')).to.equal(false);
  });

  it('moves the next refresh later after a failed one, still serving until the margin', () => {
    const store = new TokenStore(policy);
    put(store, 'a', 100_000); // serve until 90 s, refresh from 75 s
    clock.tick(80_000);
    expect(store.lookup('a')?.refreshDue).to.equal(true);
    store.refreshFailed('a');
    expect(store.lookup('a')?.refreshDue).to.equal(false);
    clock.tick(1_000);
    expect(store.lookup('a')?.refreshDue).to.equal(true);
    for (let i = 0; i < 10; i++) store.refreshFailed('a'); // a backoff of up to 30 s
    clock.tick(8_999);
    expect(store.lookup('a')?.token.token).to.equal('a'); // still served until the margin
    clock.tick(1);
    expect(store.lookup('a')).to.equal(undefined); // then callers fetch, and see the error if it fails
  });
});
