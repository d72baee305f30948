import { expect } from 'chai';
import sinon from 'sinon';
import { TokenStore } from '../../../lib/cache/token-store.js';

// On-behalf-of caches hold one entry per user: a user who never comes back must not leave their
// exchanged token in memory until the bound evicts it: the store holds no token past its expiresAt.

describe('TokenStore sweep (entries nobody asks for again)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
  });
  afterEach(() => clock.restore());

  const policy = { expiryMargin: 30_000, refreshAhead: 60_000, maxEntries: 100 };
  function put(store: TokenStore, key: string, lifetimeMs: number): void {
    store.set(key, { token: { token: key, expiresAt: Date.now() + lifetimeMs }, requestedAt: Date.now() });
  }

  it('drops an expired entry on a later write, without anyone looking it up', () => {
    const store = new TokenStore(policy);
    put(store, 'left-early', 5_000);
    put(store, 'stays', 3_600_000);
    clock.tick(60_000);
    put(store, 'newcomer', 3_600_000);
    expect(store.size).to.equal(2);
    expect(store.lookup('left-early')).to.equal(undefined);
    expect(store.lookup('stays')?.token.token).to.equal('stays');
  });

  it('sweep() drops exactly the entries past the moment they stop being served', () => {
    const store = new TokenStore(policy);
    put(store, 'a', 5_000); // served until 4.5 s
    put(store, 'b', 10_000); // served until 9 s
    expect(store.sweep(Date.now() + 4_499)).to.equal(0);
    expect(store.sweep(Date.now() + 4_500)).to.equal(1);
    expect(store.size).to.equal(1);
    expect(store.sweep(Date.now() + 9_000)).to.equal(1);
    expect(store.size).to.equal(0);
  });
});
