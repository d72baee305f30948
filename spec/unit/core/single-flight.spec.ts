import { expect } from 'chai';
import sinon from 'sinon';
import { SingleFlight, ownOutcome } from '../../../lib/core/single-flight.js';
import { TokenError, isTokenError } from '../../../lib/errors.js';

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

const settled = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

describe('SingleFlight', () => {
  it('runs the work once for concurrent callers of one key, and once per key', async () => {
    const flights = new SingleFlight<string>();
    const work = deferred<string>();
    const start = sinon.spy(() => work.promise);
    const other = sinon.spy(() => Promise.resolve('other'));
    const first = flights.shared('a', start);
    const second = flights.shared('a', start);
    expect(second).to.equal(first);
    expect(await flights.shared('b', other)).to.equal('other');
    expect(flights.size).to.equal(1);
    work.resolve('token');
    expect(await Promise.all([first, second])).to.deep.equal(['token', 'token']);
    expect(start.callCount).to.equal(1);
    expect(other.callCount).to.equal(1);
  });

  it('forgets the work once it settles: the next call after a failure or a success starts anew', async () => {
    const flights = new SingleFlight<string>();
    const failing = sinon.spy(() => Promise.reject(new Error('down')));
    await settled(flights.shared('a', failing));
    expect(flights.size).to.equal(0);
    await settled(flights.shared('a', failing));
    expect(failing.callCount).to.equal(2);
    const ok = sinon.spy(() => Promise.resolve('x'));
    await flights.shared('a', ok);
    await flights.shared('a', ok);
    expect(ok.callCount).to.equal(2);
  });

  it('forgets the work before any caller hears of it: a caller that asks again on settling starts new work', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const work = () => Promise.resolve(++runs);
    const again = await flights.shared('a', work).then(() => flights.shared('a', work));
    expect(again).to.equal(2);
  });

  it('turns work that throws at once into a rejection, and keeps nothing for it', async () => {
    const flights = new SingleFlight<string>();
    const failure = new Error('bad call');
    const outcome = await settled(
      flights.shared('a', () => {
        throw failure;
      }),
    );
    expect(outcome).to.deep.equal({ error: failure });
    expect(flights.size).to.equal(0);
  });

  describe('join(): each caller its own outcome', () => {
    it('gives every caller of a failed flight its own error: same class, code, message and cause, a stack with frames', async () => {
      const flights = new SingleFlight<string>();
      const work = deferred<string>();
      const cause = new Error('socket hang up');
      const callers = [1, 2, 3].map(() => settled(flights.join('a', () => work.promise, 'scope-a')));
      work.reject(new TokenError('network', 'token request for scope-a failed: socket hang up', { scope: 'scope-a', cause }));
      const errors = (await Promise.all(callers)).map((outcome) => (outcome as { error: TokenError }).error);
      expect(new Set(errors).size).to.equal(3);
      for (const error of errors) {
        expect(isTokenError(error)).to.equal(true);
        expect(error.code).to.equal('network');
        expect(error.message).to.equal('token request for scope-a failed: socket hang up');
        expect(error.cause).to.equal(cause);
        expect(error.stack).to.match(/\n\s+at /);
      }
    });

    it("keeps what one caller does to its error from every other caller's", async () => {
      const flights = new SingleFlight<string>();
      const work = deferred<string>();
      const first = settled(flights.join('a', () => work.promise, 'scope-a'));
      const second = settled(flights.join('a', () => work.promise, 'scope-a'));
      work.reject(new TokenError('server_error', 'token request for scope-a failed: 503', { scope: 'scope-a' }));
      const mine = ((await first) as { error: TokenError & Record<string, unknown> }).error;
      mine.stack += '\n    at a caller that appends its own frames (axios does)';
      mine.handledBy = 'caller one';
      const theirs = ((await second) as { error: TokenError & Record<string, unknown> }).error;
      expect(theirs.stack).not.to.include('a caller that appends');
      expect(theirs.handledBy).to.equal(undefined);
    });

    it("gives every caller the flight's value", async () => {
      const flights = new SingleFlight<{ token: string }>();
      const value = { token: 'abc' };
      const work = sinon.spy(() => Promise.resolve(value));
      const [a, b] = await Promise.all([flights.join('k', work, 'k'), flights.join('k', work, 'k')]);
      expect(a).to.equal(value);
      expect(b).to.equal(value);
      expect(work.callCount).to.equal(1);
    });

    it("ends only the aborting caller's wait; the flight and its other callers go on", async () => {
      const flights = new SingleFlight<string>();
      const work = deferred<string>();
      const start = sinon.spy(() => work.promise);
      const leaving = new AbortController();
      const left = settled(flights.join('a', start, 'scope-a', leaving.signal));
      const staying = settled(flights.join('a', start, 'scope-a', new AbortController().signal));
      const reason = new Error('the caller gave up');
      leaving.abort(reason);
      expect(await left).to.deep.equal({ error: reason });
      expect(flights.size).to.equal(1);
      work.resolve('token');
      expect(await staying).to.deep.equal({ value: 'token' });
      expect(start.callCount).to.equal(1);
    });
  });
});

describe('ownOutcome()', () => {
  it('passes a thrown primitive as it is (nobody can change it)', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a custom source may throw a string
    expect(await settled(ownOutcome(Promise.reject('plain'), 'scope-a'))).to.deep.equal({ error: 'plain' });
  });

  it('copies an error of any class into that class', async () => {
    class CustomError extends Error {
      code = 'E_CUSTOM';
    }
    const original = new CustomError('custom failure');
    const { error } = (await settled(ownOutcome(Promise.reject(original), 'scope-a'))) as { error: CustomError };
    expect(error).not.to.equal(original);
    expect(error).to.be.instanceOf(CustomError);
    expect(error.code).to.equal('E_CUSTOM');
    expect(error.message).to.equal('custom failure');
  });
});
