import { expect } from 'chai';
import { ResultCache } from '../../../lib/inbound/result-cache.js';

// The clock is passed in (`now`), as the validator passes it: no timers, no waiting.

/** A value with its end, as the validator keeps its results. */
interface Kept<T> {
  readonly value: T;
  readonly until: number;
}
const kept = <T>(value: T, until: number): Kept<T> => ({ value, until });

describe('ResultCache', () => {
  it('serves a value until its end, and drops it at that moment', () => {
    const cache = new ResultCache<Kept<string>>(10);
    cache.set('a', kept('value', 1_000), 0);
    expect(cache.get('a', 999)?.value).to.equal('value');
    expect(cache.get('a', 1_000)).to.equal(undefined);
    expect(cache.size, 'dropped, not only hidden').to.equal(0);
  });

  it('stores nothing for an end already past', () => {
    const cache = new ResultCache<Kept<string>>(10);
    cache.set('a', kept('value', 500), 500);
    expect(cache.get('a', 0)).to.equal(undefined);
    expect(cache.size).to.equal(0);
  });

  it('gives no slot to an end already past between sweeps: a live entry is not evicted for it', () => {
    const cache = new ResultCache<Kept<string>>(1);
    cache.set('live', kept('value', 60_000), 0); // this write sweeps; the next sweep is 10 s away
    cache.set('past', kept('value', 1_000), 1_000);
    cache.set('older', kept('value', 999), 1_000);
    expect(cache.size).to.equal(1);
    expect(cache.get('live', 1_000)?.value).to.equal('value');
  });

  it('a rewrite replaces the value and its end, and an end already past removes the old value', () => {
    const cache = new ResultCache<Kept<string>>(10);
    cache.set('a', kept('old', 1_000), 0);
    cache.set('a', kept('new', 5_000), 10);
    expect(cache.get('a', 2_000)?.value).to.equal('new');
    cache.set('a', kept('gone', 2_000), 3_000);
    expect(cache.get('a', 3_000)).to.equal(undefined);
  });

  it('evicts the oldest write beyond maxEntries (a rewrite counts as a new write)', () => {
    const cache = new ResultCache<Kept<string>>(2);
    cache.set('a', kept('A', 10_000), 0);
    cache.set('b', kept('B', 10_000), 1);
    cache.set('a', kept('A2', 10_000), 2); // a is now the newest
    cache.set('c', kept('C', 10_000), 3);
    expect(cache.size).to.equal(2);
    expect(cache.get('b', 4), 'the oldest write').to.equal(undefined);
    expect(cache.get('a', 4)?.value).to.equal('A2');
    expect(cache.get('c', 4)?.value).to.equal('C');
  });

  it('drops entries past their end on a later write, at most every 10 s, without their being read', () => {
    const cache = new ResultCache<Kept<string>>(100);
    cache.set('short', kept('S', 1_000), 0); // the first write sweeps, and sets the next sweep at 10 s
    cache.set('x', kept('X', 60_000), 5_000); // before the next sweep: 'short' stays, unread
    expect(cache.size).to.equal(2);
    cache.set('y', kept('Y', 60_000), 10_000); // the sweep is due: 'short' (ended at 1 s) goes
    expect(cache.size).to.equal(2);
    expect(cache.get('x', 10_000)?.value).to.equal('X');
  });

  it('sweeps an entry whose end is the very moment of the sweep', () => {
    const cache = new ResultCache<Kept<string>>(100);
    cache.set('a', kept('A', 10_000), 0);
    cache.set('b', kept('B', 60_000), 10_000); // the sweep is due, and 'a' ends now
    expect(cache.size).to.equal(1);
  });

  it('clear() drops every entry', () => {
    const cache = new ResultCache<Kept<number>>(10);
    cache.set('a', kept(1, 1_000), 0);
    cache.set('b', kept(2, 1_000), 0);
    cache.clear();
    expect(cache.size).to.equal(0);
    expect(cache.get('a', 1)).to.equal(undefined);
  });
});
