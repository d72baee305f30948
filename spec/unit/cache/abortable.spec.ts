import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { abortable } from '../../../lib/cache/abortable.js';

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('abortable(promise, signal)', () => {
  it("rejects at once with the reason of a signal that is already aborted, while the work it would have waited for goes on", async () => {
    const work = deferred<string>();
    const reason = new Error('caller gave up');
    const controller = new AbortController();
    controller.abort(reason);
    const outcome = await Promise.race([
      abortable(work.promise, controller.signal).then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      new Promise((resolve) => setImmediate(() => resolve('still waiting'))),
    ]);
    expect(outcome).to.equal(reason);
    // The shared work failing later is no concern of this caller's: not an unhandled rejection.
    const unhandled: unknown[] = [];
    const onUnhandled = (error: unknown) => unhandled.push(error);
    process.prependListener('unhandledRejection', onUnhandled);
    try {
      work.reject(new Error('shared work failed later'));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).to.deep.equal([]);
  });

  it("rejects with the signal's reason when it aborts during the wait", async () => {
    const work = deferred<string>();
    const controller = new AbortController();
    const waiting = abortable(work.promise, controller.signal);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    expect(await waiting.catch((error: unknown) => error)).to.equal(reason);
  });

  it("settles as the promise does, and leaves no listener on the caller's signal", async () => {
    const controller = new AbortController();
    const ok = deferred<string>();
    const waiting = abortable(ok.promise, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(1);
    ok.resolve('token');
    expect(await waiting).to.equal('token');
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);

    const failed = deferred<string>();
    const error = new Error('fetch failed');
    const failing = abortable(failed.promise, controller.signal);
    failed.reject(error);
    expect(await failing.catch((e: unknown) => e)).to.equal(error);
    expect(getEventListeners(controller.signal, 'abort')).to.have.length(0);
  });
});
