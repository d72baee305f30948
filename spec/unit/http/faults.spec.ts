import { expect } from 'chai';
import { inspect } from 'node:util';
import nock from 'nock';
import sinon from 'sinon';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials, type ClientCredentialsOptions } from '../../../lib/sources/client-credentials.js';
import { useNock } from '../../support/nock.js';

// How the token request behaves when the endpoint is flaky, slow, throttling or redirecting.

const ORIGIN = 'https://login.example';
const PATH = '/tenant/oauth2/v2.0/token';
const SCOPE = 'api://dev-gcp.team.api/.default';
const SECRET = 'fault-secret-8d2a41';
const GOOD = { access_token: 'good-token', expires_in: 3599, token_type: 'Bearer' };
const source = (options: ClientCredentialsOptions = {}) => clientCredentials({ tokenEndpoint: `${ORIGIN}${PATH}`, clientId: 'c', clientSecret: SECRET, ...options });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('should have failed'),
    (e: unknown) => e as TokenError,
  );

function noSecret(error: unknown): void {
  expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(SECRET);
  expect(JSON.stringify(error)).to.not.include(SECRET);
}

describe('token endpoint faults', function () {
  this.timeout(20_000);

  describe('with nock', () => {
    useNock();

    for (const status of [408, 429, 500, 502, 503, 504]) {
      it(`retries a ${status} and succeeds on the next answer`, async () => {
        nock(ORIGIN).post(PATH).reply(status, { error: 'temporarily_unavailable' }).post(PATH).reply(200, GOOD);
        expect((await source({ retries: 2 }).getToken(SCOPE)).token).to.equal('good-token');
      });
    }

    for (const fault of ['network error', 408, 429, 500, 503] as const) {
      it(`sends 1 + retries requests for a lasting ${fault}, then fails`, async () => {
        const failing = nock(ORIGIN).post(PATH).times(3);
        if (fault === 'network error') failing.replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
        else failing.reply(fault, { error: 'temporarily_unavailable' });
        // A 4th request would get this good answer; it must stay unused.
        nock(ORIGIN).post(PATH).reply(200, GOOD);
        const error = await failure(source({ retries: 2 }).getToken(SCOPE));
        expect(error).to.be.instanceOf(TokenError);
        expect(nock.pendingMocks(), 'only the sentinel is left: exactly 3 requests').to.have.length(1);
        nock.cleanAll();
      });
    }

    it('retries a network error', async () => {
      nock(ORIGIN)
        .post(PATH)
        .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
        .post(PATH)
        .reply(200, GOOD);
      expect((await source({ retries: 1 }).getToken(SCOPE)).token).to.equal('good-token');
    });

    it('gives up after the retries with the last answer, code and status kept', async () => {
      nock(ORIGIN).post(PATH).times(3).reply(503, { error: 'temporarily_unavailable', error_description: 'AADSTS90033: busy' });
      const error = await failure(source({ retries: 2 }).getToken(SCOPE));
      expect(error).to.include({ code: 'temporarily_unavailable', status: 503 });
      noSecret(error);
    });

    for (const status of [400, 401, 403, 404]) {
      it(`never retries a ${status}`, async () => {
        nock(ORIGIN).post(PATH).reply(status, { error: 'invalid_client' });
        const error = await failure(source({ retries: 3 }).getToken(SCOPE));
        expect(error).to.include({ code: 'invalid_client', status });
      });
    }

    describe('Retry-After, on a fake clock', () => {
      // The clock is fake, so the wait is measured exactly and a slow machine changes nothing: the
      // retry must go out no earlier than the answer asked, where the backoff alone (400-480 ms
      // before the first retry) would send it long before. Only what the wait reads and arms is
      // faked: setImmediate, process.nextTick and queueMicrotask stay real, for nock and axios
      // serve and read the answers on them.
      const T0 = 1_700_000_000_000; // a whole second, as HTTP dates are
      let clock: sinon.SinonFakeTimers;
      let settled = true;
      beforeEach(() => {
        clock = sinon.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
      });
      afterEach(async () => {
        // A test that failed half-way leaves its caller waiting on a fake timer, and a waiting
        // caller holds the process: fire what is pending (the cache's deadline ends the wait).
        if (!settled) {
          await clock.runToLastAsync();
          await realTurnsUntil(() => settled, 'the caller to be answered');
        }
        clock.restore();
      });

      /**
       * Real turns of the event loop until `condition` holds, bounded in real time. A count of
       * turns is no bound: on a loaded machine, or a Node whose http stack takes more turns, the
       * answer arrives after any number of them.
       */
      async function realTurnsUntil(condition: () => boolean, what: string, eachTurn?: () => Promise<unknown>): Promise<void> {
        const start = process.hrtime.bigint(); // not faked
        while (!condition()) {
          if (process.hrtime.bigint() - start > 10_000_000_000n) expect.fail(`still waiting after 10 s for ${what}`);
          await new Promise((resolve) => setImmediate(resolve));
          await eachTurn?.();
        }
      }

      /**
       * Runs one throttled answer, then the retry, and returns when (fake time) the retry went out.
       * Fake time stands still while the throttled answer is served and read, until the wait
       * before the retry is armed (one fake timer more than when the answer was served: the
       * cache's deadline was already there); then it jumps to the end of that wait, the earliest
       * timer, and no further. axios-retry sends the retry from a timer of its own, of 0 ms: timers
       * due now are run, fake time standing still, so the retry goes out when the wait ended.
       */
      async function retried(headers: Record<string, string>, status = 429): Promise<number> {
        let timersWhenServed = Infinity;
        let retryAt: number | undefined;
        nock(ORIGIN)
          .post(PATH)
          .reply(status, () => ((timersWhenServed = clock.countTimers()), { error: 'slow_down' }), headers);
        nock(ORIGIN)
          .post(PATH)
          .reply(200, () => ((retryAt = Date.now()), GOOD));
        settled = false;
        const token = source({ retries: 1, timeout: 120_000 }).getToken(SCOPE);
        void token.finally(() => (settled = true)).catch(() => {});
        await realTurnsUntil(() => clock.countTimers() > timersWhenServed, 'the wait before the retry to be armed');
        await clock.nextAsync();
        await realTurnsUntil(
          () => retryAt !== undefined,
          'the retry to go out',
          () => clock.tickAsync(0),
        );
        expect((await token).token).to.equal('good-token');
        return retryAt!;
      }

      it('honours Retry-After in seconds', async () => {
        expect((await retried({ 'retry-after': '20' })) - T0).to.be.at.least(20_000);
      });

      it('honours Retry-After as an HTTP date', async () => {
        const date = T0 + 20_000;
        expect(await retried({ 'retry-after': new Date(date).toUTCString() }, 503)).to.be.at.least(date);
      });
    });

    it('fails at once with code throttled when Retry-After is longer than allowed', async () => {
      nock(ORIGIN).post(PATH).reply(429, { error: 'too_many_requests' }, { 'retry-after': '120' });
      nock(ORIGIN).post(PATH).reply(200, GOOD); // a second request would get this; it must stay unused
      const error = await failure(source({ retries: 3, maxRetryAfter: 30_000 }).getToken(SCOPE));
      expect(error).to.include({ code: 'throttled', status: 429, retryAfter: 120_000 });
      expect(nock.pendingMocks(), 'a single request').to.have.length(1);
      nock.cleanAll();
      expect(error.message).to.include('asked to retry after 120 s (more than the 30 s allowed)');
    });
  });
});
