import { abortable } from './deadline.js';
import { ownError } from './own-error.js';

// The package's one single-flight, for the token cache and the introspection cache alike: while
// work for a key is in flight, every caller for that key joins it rather than starting its own
// (a cold cache under load makes one request per key, not one per caller). Failures are shared
// only while the work is in flight: the entry goes as soon as the work settles, so the next call
// after a failure starts new work, and nothing failed is kept.

/** Keyed single-flight: at most one piece of work in flight per key. */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Promise<T>>();

  /** Keys with work in flight. */
  get size(): number {
    return this.#flights.size;
  }

  /**
   * The work in flight for `key`, or `work()` started now (a synchronous throw becomes a
   * rejection). This is the shared promise itself, for the owner's own use (a refresh in the
   * background); a caller waiting for the outcome gets {@link SingleFlight.join}'s copy.
   */
  shared(key: string, work: () => Promise<T>): Promise<T> {
    const inFlight = this.#flights.get(key);
    if (inFlight !== undefined) return inFlight;
    let started: Promise<T>;
    try {
      started = work();
    } catch (error) {
      started = Promise.reject(error);
    }
    this.#flights.set(key, started);
    // Registered before any caller's handler, so a caller that calls again on settling starts anew.
    const forget = () => {
      if (this.#flights.get(key) === started) this.#flights.delete(key);
    };
    started.then(forget, forget);
    return started;
  }

  /**
   * One caller's wait for `key`'s work (joined, or started by `work()`): see {@link ownOutcome}.
   * `label` names the work in the message of an error that cannot be copied.
   */
  join(key: string, work: () => Promise<T>, label: string, signal?: AbortSignal): Promise<T> {
    return ownOutcome(this.shared(key, work), label, signal);
  }
}

/**
 * One caller's view of a shared promise. The value is shared, as a cache hands every hit the same
 * object (an introspection result is frozen for that reason); a failure is this caller's own copy (same class, code,
 * message, details, cause and stack: see {@link ownError}), so what one caller, a logger or axios
 * does to its error reaches no other. `signal` ends this caller's wait only, never the shared work.
 */
export function ownOutcome<T>(shared: Promise<T>, label: string, signal?: AbortSignal): Promise<T> {
  const own = shared.then(undefined, (error: unknown) => {
    throw ownError(error, label);
  });
  return signal === undefined ? own : abortable(own, signal);
}
