import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import sinon from 'sinon';
import { abortable, pause, withDeadline } from '../../../lib/core/deadline.js';

/** A promise and the hands that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Referenced timers Node counts as keeping the process alive (unref'd ones are left out). */
const heldTimers = () => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;

describe('withDeadline()', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  it("gives the work's value, builds no reason and leaves no timer when the work ends in time", async () => {
    const reason = sinon.spy(() => new Error('late'));
    const work = deferred<string>();
    const result = withDeadline(1_000, reason, () => work.promise);
    expect(clock.countTimers()).to.equal(1);
    await clock.tickAsync(999);
    work.resolve('done');
    expect(await result).to.equal('done');
    expect(clock.countTimers()).to.equal(0);
    await clock.tickAsync(10_000);
    expect(reason.called).to.equal(false);
  });

  it("passes the work's failure on and clears its timer", async () => {
    const failure = new Error('endpoint down');
    const result = withDeadline(
      1_000,
      () => new Error('late'),
      () => Promise.reject(failure),
    );
    const error = await result.catch((e: unknown) => e);
    expect(error).to.equal(failure);
    expect(clock.countTimers()).to.equal(0);
  });

  it('turns a work function that throws at once into a rejection, and clears its timer', async () => {
    const failure = new Error('bad call');
    const error = await withDeadline(
      1_000,
      () => new Error('late'),
      () => {
        throw failure;
      },
    ).catch((e: unknown) => e);
    expect(error).to.equal(failure);
    expect(clock.countTimers()).to.equal(0);
  });

  it('aborts the signal with the reason at the deadline, and rejects with it even when the work ignores the signal', async () => {
    const late = new Error('timed out after 1000 ms');
    let signal: AbortSignal | undefined;
    const result = withDeadline(
      1_000,
      () => late,
      (given) => {
        signal = given;
        return new Promise<never>(() => {}); // a custom fetch function that never answers
      },
    );
    const settled = result.catch((e: unknown) => e);
    await clock.tickAsync(999);
    expect(signal!.aborted).to.equal(false);
    await clock.tickAsync(1);
    expect(signal!.aborted).to.equal(true);
    expect(signal!.reason).to.equal(late);
    expect(await settled).to.equal(late);
  });
});

describe('withDeadline() and pause() on the real clock', () => {
  it('a pending deadline does not hold the process', async () => {
    const before = heldTimers();
    const work = deferred<string>();
    const result = withDeadline(
      60_000,
      () => new Error('late'),
      () => work.promise,
    );
    expect(heldTimers()).to.equal(before);
    work.resolve('done');
    expect(await result).to.equal('done');
  });

  it('a pending pause does not hold the process', async () => {
    const before = heldTimers();
    const stop = new AbortController();
    const paused = pause(60_000, stop.signal);
    expect(heldTimers()).to.equal(before);
    stop.abort();
    await paused;
  });
});

describe('pause()', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  it('resolves after its time', async () => {
    let done = false;
    const paused = pause(500).then(() => (done = true));
    await clock.tickAsync(499);
    expect(done).to.equal(false);
    await clock.tickAsync(1);
    await paused;
    expect(done).to.equal(true);
  });

  // A wait computed from performance.now() has a fraction (a Retry-After's end less now); a timer
  // that dropped it would send the next request a millisecond before the endpoint asked.
  it('never resolves before its time when the time has a fraction of a millisecond', async () => {
    let done = false;
    const paused = pause(1999.4).then(() => (done = true));
    await clock.tickAsync(1999);
    expect(done, 'resolved at 1,999 ms of a 1,999.4 ms pause').to.equal(false);
    await clock.tickAsync(1);
    await paused;
    expect(done).to.equal(true);
  });

  it('resolves at once when its signal aborts, clearing its timer and its listener', async () => {
    const stop = new AbortController();
    const listeners = sinon.spy(stop.signal, 'removeEventListener');
    const paused = pause(60_000, stop.signal);
    stop.abort();
    await paused;
    expect(clock.countTimers()).to.equal(0);
    expect(listeners.calledWith('abort')).to.equal(true);
  });

  it('resolves at once, starting no timer, on a signal already aborted', async () => {
    await pause(60_000, AbortSignal.abort());
    expect(clock.countTimers()).to.equal(0);
  });
});

describe('abortable(promise, signal)', () => {
  it('rejects at once with the reason of a signal that is already aborted, while the work it would have waited for goes on', async () => {
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
