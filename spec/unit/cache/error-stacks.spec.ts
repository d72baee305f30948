import { expect } from 'chai';
import { withCache } from '../../../lib/cache/with-cache.js';
import { TokenError } from '../../../lib/errors.js';

// A per-caller copy of a failure keeps real stack frames on every Node version CI runs (from
// Node 22 an error's `stack` is an accessor, which a property-by-property copy loses).

const frames = (error: unknown) => ((error as Error).stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));

describe('errors from getToken() keep stack frames', () => {
  it('a TokenError from the fetch, with one caller and with several', async () => {
    const source = withCache(async () => {
      throw new TokenError('invalid_client', 'token request for s failed: 401 invalid_client', { status: 401 });
    });
    const alone = await source.getToken('s').catch((e: unknown) => e);
    expect(alone).to.be.instanceOf(TokenError);
    expect(frames(alone), String((alone as Error).stack)).to.not.be.empty;
    const many = await Promise.all([1, 2, 3].map(() => source.getToken('t').catch((e: unknown) => e)));
    for (const error of many) expect(frames(error)).to.not.be.empty;
  });

  it("any other error a custom source throws, with the original's frames", async () => {
    const original = new RangeError('vault sealed');
    const source = withCache(async () => {
      throw original;
    });
    const [a, b] = await Promise.all([source.getToken('s').catch((e: unknown) => e), source.getToken('s').catch((e: unknown) => e)]);
    for (const error of [a, b]) {
      expect(error).to.be.instanceOf(RangeError);
      expect((error as Error).stack).to.equal(original.stack);
      expect(frames(error)).to.not.be.empty;
    }
  });
});
