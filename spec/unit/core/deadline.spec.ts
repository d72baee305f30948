import { expect } from 'chai';
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
    const result = withDeadline(1_000, () => new Error('late'), () => Promise.reject(failure));
    const error = await result.catch((e: unknown) => e);
    expect(error).to.equal(failure);
    expect(clock.countTimers()).to.equal(0);
  });

  it('turns a work function that throws at once into a rejection, and clears its timer', async () => {
    const failure = new Error('bad call');
    const error = await withDeadline(1_000, () => new Error('late'), () => {
      throw failure;
    }).catch((e: unknown) => e);
    expect(error).to.equal(failure);
    expect(clock.countTimers()).to.equal(0);
  });

  it('aborts the signal with the reason at the deadline, and rejects with it even when the work ignores the signal', async () => {
    const late = new Error('timed out after 1000 ms');
    let signal: AbortSignal | undefined;
    const result = withDeadline(1_000, () => late, (given) => {
      signal = given;
      return new Promise<never>(() => {}); // a custom fetch function that never answers
    });
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
    const result = withDeadline(60_000, () => new Error('late'), () => work.promise);
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

describe('abortable()', () => {
  it("rejects with the signal's reason on abort, while the work itself goes on", async () => {
    const stop = new AbortController();
    const work = deferred<string>();
    const wait = abortable(work.promise, stop.signal).catch((e: unknown) => e);
    const reason = new Error('caller left');
    stop.abort(reason);
    expect(await wait).to.equal(reason);
    work.resolve('still done');
    expect(await work.promise).to.equal('still done');
  });

  it("gives the work's value or failure when no abort comes first, and removes its listener", async () => {
    const stop = new AbortController();
    const listeners = sinon.spy(stop.signal, 'removeEventListener');
    expect(await abortable(Promise.resolve(1), stop.signal)).to.equal(1);
    const failure = new Error('no');
    expect(await abortable(Promise.reject(failure), stop.signal).catch((e: unknown) => e)).to.equal(failure);
    expect(listeners.callCount).to.equal(2);
  });

  it('rejects at once on a signal already aborted, and a later failure of the work is nobody\'s unhandled rejection', async () => {
    const reason = new Error('gone');
    const work = deferred<string>();
    const unhandled = sinon.spy();
    process.on('unhandledRejection', unhandled);
    try {
      expect(await abortable(work.promise, AbortSignal.abort(reason)).catch((e: unknown) => e)).to.equal(reason);
      work.reject(new Error('failed later'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled.called).to.equal(false);
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
