import { expect } from 'chai';
import nock from 'nock';
import sinon from 'sinon';
import { withCache } from '../../../lib/cache/with-cache.js';
import { parseTokenAnswer } from '../../../lib/http/token-response.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import type { AccessToken, GetTokenOptions } from '../../../lib/types.js';
import { useNock } from '../../support/nock.js';

// Entra ID's `refresh_in` (docs/protocols/entra.md, "A token"): with long-lived tokens Entra says when to fetch a new
// one (e.g. expires_in 86399, refresh_in 43199); the refresh ahead starts no later than that.

const NOW = 1_700_000_000_000;
const answer = (fields: Record<string, unknown>) => JSON.stringify({ access_token: 't', token_type: 'Bearer', expires_in: 86_399, ...fields });

describe('refresh_in', () => {
  describe('in a token answer', () => {
    it('becomes refreshAt, counted from the moment the request was sent, as a number or a numeric string', () => {
      expect(parseTokenAnswer(answer({ refresh_in: 43_199 }), NOW)).to.include({ refreshAt: NOW + 43_199_000 });
      expect(parseTokenAnswer(answer({ refresh_in: '43199' }), NOW)).to.include({ refreshAt: NOW + 43_199_000 });
      expect(parseTokenAnswer(answer({ refresh_in: 0.5 }), NOW)).to.include({ refreshAt: NOW + 500 });
    });

    it('is ignored, not an error, when absent or not a positive number: the token is still good', () => {
      for (const refresh_in of [undefined, null, 0, -1, 'soon', '', '1e3', {}, [], true, Number.POSITIVE_INFINITY]) {
        const token = parseTokenAnswer(answer({ refresh_in }), NOW);
        expect(token, JSON.stringify(refresh_in)).to.not.have.property('refreshAt');
        expect(token.token).to.equal('t');
      }
    });
  });

  describe('in the cache', () => {
    let clock: sinon.SinonFakeTimers;
    beforeEach(() => {
      clock = sinon.useFakeTimers({ now: NOW });
    });
    afterEach(() => clock.restore());
    const settle = () => clock.tickAsync(0);

    function fetchWith(first: Partial<AccessToken>) {
      const calls: GetTokenOptions[] = [];
      const fetch = async (_scope: string, options: GetTokenOptions): Promise<AccessToken> => {
        calls.push(options);
        const token = { token: `t${calls.length}`, expiresAt: Date.now() + 86_399_000 };
        return calls.length === 1 ? { ...token, ...first } : token;
      };
      return { calls, source: withCache(fetch) };
    }

    it('starts the refresh ahead at refreshAt, not a millisecond later, while the token keeps serving', async () => {
      const { calls, source } = fetchWith({ refreshAt: NOW + 43_199_000 });
      await source.getToken('s');
      await clock.tickAsync(43_199_000 - 1);
      expect((await source.getToken('s')).token).to.equal('t1');
      await settle();
      expect(calls).to.have.length(1);
      await clock.tickAsync(1);
      expect((await source.getToken('s')).token).to.equal('t1'); // served while the refresh runs
      await settle();
      expect(calls).to.have.length(2);
      expect(calls[1]!.forceRefresh).to.equal(false);
      expect((await source.getToken('s')).token).to.equal('t2');
    });

    it('keeps its own rule when refreshAt is later (never refreshes later than without it)', async () => {
      const { calls, source } = fetchWith({ refreshAt: NOW + 86_399_000 });
      await source.getToken('s');
      await clock.tickAsync(86_399_000 - 60_000 - 1); // the 60 s refresh ahead, before the hint
      await source.getToken('s');
      await settle();
      expect(calls).to.have.length(1);
      await clock.tickAsync(1);
      await source.getToken('s');
      await settle();
      expect(calls).to.have.length(2);
    });

    it('ignores a refreshAt that is not a number from a custom source', async () => {
      const { calls, source } = fetchWith({ refreshAt: Number.NaN });
      await source.getToken('s');
      await clock.tickAsync(86_399_000 - 60_000 - 1);
      await source.getToken('s');
      await settle();
      expect(calls).to.have.length(1);
      await clock.tickAsync(1); // its own rule still holds
      await source.getToken('s');
      await settle();
      expect(calls).to.have.length(2);
    });
  });

  describe('from Entra ID through clientCredentials()', () => {
    useNock();

    it('refreshes at requestedAt + refresh_in exactly', async () => {
      const clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] }); // real timers for the HTTP stack
      try {
        await refreshesAtTheEdge(clock);
      } finally {
        clock.restore();
      }
    });

    async function refreshesAtTheEdge(clock: sinon.SinonFakeTimers) {
      const origin = 'https://login.microsoftonline.com';
      const path = '/tenant-id/oauth2/v2.0/token';
      const scope = nock(origin)
        .post(path)
        .reply(200, { token_type: 'Bearer', expires_in: 86_399, refresh_in: 43_199, access_token: 'first' })
        .post(path)
        .reply(200, { token_type: 'Bearer', expires_in: 86_399, refresh_in: 43_199, access_token: 'second' });
      const source = clientCredentials({ tokenEndpoint: `${origin}${path}`, clientId: 'c', clientSecret: 's', retries: 0 });
      expect((await source.getToken('api://x/.default')).token).to.equal('first');
      clock.tick(43_199_000 - 1);
      await source.getToken('api://x/.default');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(scope.pendingMocks()).to.have.length(1); // no refresh yet
      clock.tick(1);
      expect((await source.getToken('api://x/.default')).token).to.equal('first');
      let served = 'first';
      for (let i = 0; i < 100 && served === 'first'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        served = (await source.getToken('api://x/.default')).token;
      }
      expect(served).to.equal('second');
      expect(scope.isDone()).to.equal(true);
    }
  });
});
