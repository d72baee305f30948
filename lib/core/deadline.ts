// The package's one way to bound a wait in time, and to let a caller stop waiting. Every timer here
// is unref'd: nothing the package starts holds the process; the work a deadline bounds (a socket to
// the endpoint) does, while it runs. Each timer is cleared as soon as the wait it bounds ends, so
// a settled call leaves nothing behind.

/**
 * Runs `work` with a deadline of `ms` milliseconds. At the deadline the signal given to `work`
 * aborts with `reason()` (built then, so a call that finishes in time builds no error), and the
 * returned promise rejects with it, even if `work` ignores its signal. The timer is unref'd, and
 * cleared when `work` settles first.
 */
export async function withDeadline<T>(ms: number, reason: () => unknown, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(reason()), ms);
  timer.unref?.();
  try {
    // Work that ignores the signal (a custom fetch function) is raced, so the deadline holds for it too.
    return await abortable(work(deadline.signal), deadline.signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `promise`, but rejecting with `signal.reason` as soon as `signal` aborts. The promise itself keeps
 * running: this ends one caller's wait, not work that others share. Its listener is removed when
 * `promise` settles, so a long-lived signal does not collect one per call.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {}); // the shared work may still fail; that is not this caller's concern
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Resolves after `ms`, or at once when `signal` aborts (it never rejects: the caller reads
 * `signal.aborted` to tell which). Its timer is unref'd and cleared on abort.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    // Rounded up: a timer may drop the fraction of a millisecond, and a Retry-After wait that ends
    // a millisecond early sends its request before the endpoint asked for it.
    const timer = setTimeout(done, Math.ceil(ms));
    timer.unref?.();
    signal?.addEventListener('abort', done, { once: true });
  });
}
