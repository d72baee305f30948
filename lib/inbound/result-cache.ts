// The introspection results a validator keeps: the smallest cache that does the job, rather than
// bending cache/ (which is about tokens we fetch, their refresh ahead and 401s). Each entry lives
// until a moment its writer chose; the Map's order is the order of writes, so the oldest written is
// evicted first, in O(1) per write.

const SWEEP_INTERVAL = 10_000;

interface Entry<T> {
  readonly value: T;
  readonly until: number;
}

export class ResultCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #maxEntries: number;
  #nextSweep = 0;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value stored for `key`, while `now` is before its end; an entry past it is dropped. */
  get(key: string, now = Date.now()): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.until) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /**
   * Keeps `value` until `until`; a moment already past stores nothing. `until` and `now` are on
   * one clock the writer chose (epoch ms, or `performance.now()`), the same for every call.
   */
  set(key: string, value: T, until: number, now = Date.now()): void {
    this.#entries.delete(key); // re-insert: a rewrite counts as the newest write
    if (until <= now) return;
    this.#entries.set(key, { value, until });
    if (now >= this.#nextSweep) this.#sweep(now);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  // Claims are personal data: entries nobody asks for again (a user who left) are dropped by a walk
  // on a later write, at most every SWEEP_INTERVAL, rather than kept until evicted.
  #sweep(now: number): void {
    this.#nextSweep = now + SWEEP_INTERVAL;
    for (const [key, entry] of this.#entries) if (now >= entry.until) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
