// The package's one bounded map whose entries expire: each entry lives until a moment its writer
// chose, on a clock the owner chose (epoch ms for a token's `exp`, `performance.now()` for a TTL
// that a wall-clock step must not stretch or cut short).
//
// The end is the value's own `until`, not a record the map wraps around it: a cache holding tens of
// thousands of entries pays for one object per entry, not two.
//
// Eviction order: the order of writes. A Map iterates in insertion order and a write re-inserts
// its key, so the first key is always the oldest written, and the bound costs O(1) per write.
//
// The sweep: entries nobody reads again (a user who left; claims are personal data, tokens are
// secrets) are dropped by a walk on a later write, at most every SWEEP_INTERVAL of the map's
// clock, rather than kept until evicted. On a write, not on a timer: nothing in the background,
// so nothing to hold the process or to stop, and a busy map pays one O(n) walk per interval.

/** At most this often (in the map's clock units, ms) a write walks the map for expired entries. */
export const SWEEP_INTERVAL = 10_000;

/** What the map keeps: any value that carries the moment it ends. */
export interface Expiring {
  /** The end of the entry, on the map's clock: from this moment on it is never returned by `get`. */
  readonly until: number;
}

/** A bounded map of values that expire; see the eviction order and the sweep above. */
export class ExpiringMap<V extends Expiring> {
  readonly #entries = new Map<string, V>();
  readonly #maxEntries: number;
  readonly #clock: () => number;
  #nextSweep = -Infinity;

  /**
   * @param maxEntries most entries kept; past it, the oldest written goes.
   * @param clock the clock `until` and `now` are on, for calls that pass no `now`.
   */
  constructor(maxEntries: number, clock: () => number = Date.now) {
    this.#maxEntries = maxEntries;
    this.#clock = clock;
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value stored for `key` while `now` is before its end; an entry past it is dropped. */
  get(key: string, now = this.#clock()): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    if (now >= value.until) {
      this.#entries.delete(key);
      return undefined;
    }
    return value;
  }

  /**
   * The value stored for `key`, even past its end, and without dropping anything: for an owner
   * whose own rules read an entry's state (a value it updates in place) beside its end.
   */
  peek(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /**
   * Keeps `value` until its `until` (a rewrite counts as the newest write); a moment already past
   * stores nothing and drops what was there. May sweep, then evicts down to the bound.
   */
  set(key: string, value: V, now = this.#clock()): void {
    this.#entries.delete(key);
    if (value.until <= now) return;
    this.#entries.set(key, value);
    if (now >= this.#nextSweep) this.sweep(now);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  /** Drops every entry past its end; returns how many. The next write-driven sweep is due SWEEP_INTERVAL later. */
  sweep(now = this.#clock()): number {
    this.#nextSweep = now + SWEEP_INTERVAL;
    let dropped = 0;
    for (const [key, value] of this.#entries) {
      if (now >= value.until) {
        this.#entries.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
