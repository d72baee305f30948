import { expect } from 'chai';
import sinon from 'sinon';
import { withCache } from '../../../lib/cache/with-cache.js';
import type { AccessToken, GetTokenOptions } from '../../../lib/types.js';

/**
 * Texas's own cache as docs/protocols/texas.md describes it: an entry lives `lifetime - 120 s` when the
 * lifetime is over 120 s, else half of it; from the cache it answers the same token with the
 * REMAINING lifetime; `skip_cache` mints anew.
 */
function texasModel(lifetimeSeconds: number) {
  let entry: { token: string; mintedAt: number } | undefined;
  const stats = { requests: 0, mints: 0 };
  const entryLife = (lifetimeSeconds > 120 ? lifetimeSeconds - 120 : lifetimeSeconds / 2) * 1000;
  const fetch = async (_scope: string, { forceRefresh }: GetTokenOptions): Promise<AccessToken> => {
    stats.requests += 1;
    const now = Date.now();
    if (forceRefresh || entry === undefined || now >= entry.mintedAt + entryLife) {
      stats.mints += 1;
      entry = { token: `token-${stats.mints}`, mintedAt: now };
    }
    const remaining = Math.floor((entry.mintedAt + lifetimeSeconds * 1000 - now) / 1000); // whole seconds, as Texas sends
    return { token: entry.token, expiresAt: now + remaining * 1000 };
  };
  return { fetch, stats, entryLife };
}

describe('no refresh loop against Texas: a simulated day per token lifetime', function () {
  this.timeout(60_000);
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => clock.restore());

  const DAY = 24 * 60 * 60 * 1000;
  const CALL_EVERY = 5_000;

  for (const lifetime of [60, 300, 3599]) {
    it(`${lifetime} s tokens: about one token request per Texas token, never one per call`, async () => {
      const texas = texasModel(lifetime);
      const source = withCache(texas.fetch);
      let calls = 0;
      const expired: number[] = [];
      for (let t = 0; t < DAY; t += CALL_EVERY) {
        const token = await source.getToken('api://x/.default');
        if (token.expiresAt <= Date.now()) expired.push(Date.now());
        calls += 1;
        await clock.tickAsync(CALL_EVERY);
      }
      // Texas mints a new token once per entry life; we may ask once more per Texas token when our
      // refresh-ahead lands on Texas's entry just before it is replaced (one answer from its cache,
      // then the new one). So at most two requests per Texas token, plus the first.
      const texasTokens = Math.ceil(DAY / texas.entryLife);
      console.log(
        `      ${lifetime} s: ${calls} calls, ${texas.stats.requests} token requests, ${texas.stats.mints} Texas mints (${(texas.stats.requests / texas.stats.mints).toFixed(2)} requests per Texas token)`,
      );
      expect(expired).to.deep.equal([]);
      expect(texas.stats.mints).to.be.at.most(texasTokens + 1);
      expect(texas.stats.requests).to.be.at.most(2 * texas.stats.mints + 1);
      expect(texas.stats.requests).to.be.below(calls / 4);
      // The bound: at most two fetches per effective lifetime (Texas's entry life), plus two.
      expect(texas.stats.requests).to.be.at.most(Math.ceil(DAY / texas.entryLife) * 2 + 2);
    });
  }

  it("3599 s tokens with margins far beyond Texas's 120 s floor: still a few requests per Texas token", async () => {
    const texas = texasModel(3599);
    // A refresh 10 minutes ahead gets Texas's cached token back with less left; the lifetime
    // fractions make each repeat wait for a quarter of what is left, never one request per call.
    const source = withCache(texas.fetch, { refreshAhead: 600_000, expiryMargin: 300_000 });
    let calls = 0;
    for (let t = 0; t < DAY; t += CALL_EVERY) {
      const token = await source.getToken('api://x/.default');
      expect(token.expiresAt).to.be.above(Date.now());
      calls += 1;
      await clock.tickAsync(CALL_EVERY);
    }
    console.log(
      `      3599 s, refreshAhead 600 s: ${calls} calls, ${texas.stats.requests} token requests, ${texas.stats.mints} Texas mints (${(texas.stats.requests / texas.stats.mints).toFixed(2)} requests per Texas token)`,
    );
    expect(texas.stats.requests).to.be.at.most(4 * texas.stats.mints);
  });
});
