import { expect } from 'chai';
import { inspect } from 'node:util';
import nock from 'nock';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials, type ClientCredentialsOptions } from '../../../lib/sources/client-credentials.js';
import { useNock } from '../../support/nock.js';

// How the token request behaves when the endpoint is flaky, slow, throttling or redirecting.

const ORIGIN = 'https://login.example';
const PATH = '/tenant/oauth2/v2.0/token';
const SCOPE = 'api://dev-gcp.team.api/.default';
const SECRET = 'fault-secret-8d2a41';
const GOOD = { access_token: 'good-token', expires_in: 3599, token_type: 'Bearer' };
const source = (options: ClientCredentialsOptions = {}) =>
  clientCredentials({ tokenEndpoint: `${ORIGIN}${PATH}`, clientId: 'c', clientSecret: SECRET, ...options });
const failure = (promise: Promise<unknown>) => promise.then(() => expect.fail('should have failed'), (e: unknown) => e as TokenError);

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

    it('honours Retry-After in seconds', async () => {
      nock(ORIGIN).post(PATH).reply(429, { error: 'slow_down' }, { 'retry-after': '1' }).post(PATH).reply(200, GOOD);
      const started = Date.now();
      expect((await source({ retries: 1 }).getToken(SCOPE)).token).to.equal('good-token');
      expect(Date.now() - started).to.be.at.least(900); // waited as asked (a lower bound, not a timing)
    });

    it('honours Retry-After as an HTTP date', async () => {
      const date = new Date(Date.now() + 1_500).toUTCString();
      nock(ORIGIN).post(PATH).reply(503, '', { 'retry-after': date }).post(PATH).reply(200, GOOD);
      expect((await source({ retries: 1 }).getToken(SCOPE)).token).to.equal('good-token');
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
