import { expect } from 'chai';
import { ExpiringMap, SWEEP_INTERVAL } from '../../../lib/core/expiring-map.js';

// The clock is a parameter: a hand-moved one here, no timers and no waiting.
function clockAt(start: number) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

/** A value that carries its own end, as the map's owners store them. */
interface Named {
  readonly name: string;
  readonly until: number;
}
const named = (name: string, until: number): Named => ({ name, until });

describe('ExpiringMap', () => {
  it("reads the owner's clock when a call passes no moment (a monotonic one as well as epoch)", () => {
    const clock = clockAt(5);
    const map = new ExpiringMap<Named>(10, clock.read);
    map.set('a', named('A', 105));
    clock.now = 104;
    expect(map.get('a')?.name).to.equal('A');
    clock.now = 105;
    expect(map.get('a')).to.equal(undefined);
    expect(map.size, 'dropped at its end, not only hidden').to.equal(0);
  });

  it('defaults to the epoch clock', () => {
    const map = new ExpiringMap<Named>(10);
    map.set('a', named('A', Date.now() + 60_000));
    expect(map.get('a')?.name).to.equal('A');
    map.set('b', named('B', Date.now() - 1));
    expect(map.get('b')).to.equal(undefined);
  });

  it("keeps the owner's value itself, its end read from its `until`: no record wrapped around it", () => {
    const map = new ExpiringMap<Named>(10);
    const value = named('A', 100);
    map.set('a', value, 0);
    expect(map.get('a', 99)).to.equal(value);
    expect(map.peek('a')).to.equal(value);
    expect(map.get('a', 100), 'ends at its own until').to.equal(undefined);
  });

  it('stores nothing for an end already past, and drops what the key held', () => {
    const map = new ExpiringMap<Named>(10);
    map.set('a', named('old', 1_000), 0);
    map.set('a', named('new', 500), 500);
    expect(map.get('a', 0)).to.equal(undefined);
    expect(map.size).to.equal(0);
  });

  it('evicts in the order of writes: the oldest written first, a rewrite counting as the newest', () => {
    const map = new ExpiringMap<Named>(2);
    map.set('a', named('A', 10_000), 0);
    map.set('b', named('B', 10_000), 1);
    map.set('a', named('A2', 10_000), 2);
    map.set('c', named('C', 10_000), 3);
    expect(map.size).to.equal(2);
    expect(map.get('b', 4)).to.equal(undefined);
    expect(map.get('a', 4)?.name).to.equal('A2');
    expect(map.get('c', 4)?.name).to.equal('C');
  });

  it(`sweeps expired entries on a write at most every ${SWEEP_INTERVAL} ms of its clock, without their being read`, () => {
    const map = new ExpiringMap<Named>(100);
    map.set('short', named('S', 1_000), 0); // the first write sweeps, the next is due at SWEEP_INTERVAL
    map.set('x', named('X', 60_000), SWEEP_INTERVAL - 1);
    expect(map.size, 'no sweep before its interval').to.equal(2);
    map.set('y', named('Y', 60_000), SWEEP_INTERVAL);
    expect(map.size, "'short' swept").to.equal(2);
    expect(map.get('x', SWEEP_INTERVAL)?.name).to.equal('X');
  });

  it('sweep() drops every expired entry and says how many', () => {
    const map = new ExpiringMap<Named>(100);
    map.set('a', named('A', 100), 0);
    map.set('b', named('B', 200), 0);
    map.set('c', named('C', 300), 0);
    expect(map.sweep(200)).to.equal(2);
    expect(map.size).to.equal(1);
    expect(map.get('c', 200)?.name).to.equal('C');
  });

  it('peek() reads an entry past its end without dropping it, and a value updated in place stays updated', () => {
    const map = new ExpiringMap<{ hits: number; until: number }>(10);
    map.set('a', { hits: 0, until: 100 }, 0);
    map.peek('a')!.hits += 1;
    expect(map.peek('a')?.hits).to.equal(1);
    expect(map.get('a', 99)?.hits).to.equal(1);
    expect(map.peek('a')?.hits, 'past its end, still there').to.equal(1);
    expect(map.size, 'peek drops nothing').to.equal(1);
    expect(map.peek('b')).to.equal(undefined);
    expect(map.get('a', 100)).to.equal(undefined);
    expect(map.peek('a'), 'get drops it at its end').to.equal(undefined);
  });

  it('delete() and clear() drop entries', () => {
    const map = new ExpiringMap<Named>(10);
    map.set('a', named('A', 100), 0);
    map.set('b', named('B', 100), 0);
    map.delete('a');
    expect(map.get('a', 0)).to.equal(undefined);
    expect(map.get('b', 0)?.name, 'only the key deleted').to.equal('B');
    map.clear();
    expect(map.size).to.equal(0);
  });
});
