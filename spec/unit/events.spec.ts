import axios from 'axios';
import { expect } from 'chai';
import nock from 'nock';
import sinon from 'sinon';
import { withCache } from '../../lib/cache/with-cache.js';
import { TokenError } from '../../lib/errors.js';
import { channels, EVENT_NAMES, publish, subscribe, type EventName, type Events } from '../../lib/events.js';
import { attachToken } from '../../lib/interceptor/attach-token.js';
import { clientCredentials } from '../../lib/sources/client-credentials.js';
import { texas } from '../../lib/sources/texas.js';

const SCOPE = 'api://dev-gcp.team.api/.default';
const SECRET = 'events-secret-value-0123456789';

/** Records every event of every channel until stopped. */
function record() {
  const seen: { name: EventName; message: Events[EventName] }[] = [];
  const stops = EVENT_NAMES.map((name) => subscribe(name, (message) => seen.push({ name, message })));
  return { seen, stop: () => stops.forEach((stop) => stop()) };
}

describe('events (diagnostics_channel)', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
    nock.cleanAll();
  });

  it('names every channel axios-m2m:<area>:<event>', () => {
    expect(EVENT_NAMES).to.deep.equal([
      'axios-m2m:token:served',
      'axios-m2m:token:request',
      'axios-m2m:refresh:start',
      'axios-m2m:refresh:error',
      'axios-m2m:request:retry',
      'axios-m2m:introspection:validate',
    ]);
    for (const name of EVENT_NAMES) expect(name).to.match(/^axios-m2m:[a-z]+:[a-z]+$/);
  });

  it('publishes a served event for every token, telling cache hits from waits, and a request event per fetch', async () => {
    nock('http://127.0.0.1:7164').post('/api/v1/token').reply(200, { access_token: 'secret-token-value', expires_in: 3599, token_type: 'Bearer' });
    const events = record();
    const source = texas({ endpoint: 'http://127.0.0.1:7164/api/v1/token' });
    await source.getToken(SCOPE);
    await source.getToken(SCOPE);
    events.stop();
    const names = events.seen.map((e) => e.name);
    expect(names).to.deep.equal(['axios-m2m:token:request', 'axios-m2m:token:served', 'axios-m2m:token:served']);
    const [request, wait, hit] = events.seen.map((e) => e.message);
    expect(request).to.deep.include({
      scope: SCOPE,
      source: 'texas',
      endpoint: 'http://127.0.0.1:7164/api/v1/token',
      reason: 'miss',
      outcome: 'ok',
    });
    // In ms: expires_in 3599 less the second the server may have rounded away, counted from the fetch's start.
    expect((request as Events['axios-m2m:token:request']).lifetime).to.be.within(3_597_000, 3_599_000);
    expect(wait).to.include({ scope: SCOPE, source: 'texas', fromCache: false });
    expect(hit).to.deep.equal({ scope: SCOPE, source: 'texas', fromCache: true, duration: 0 });
    expect(JSON.stringify(events.seen)).to.not.include('secret-token-value');
  });

  it('times a fetch and the wait for it in ms: the request event and the served event of the caller who waited', async () => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
    let answer: (token: { token: string; expiresAt: number }) => void = () => {};
    const source = withCache(() => new Promise((resolve) => (answer = resolve)), { name: 'timed' });
    const events = record();
    const waiting = source.getToken(SCOPE);
    await clock.tickAsync(1_500);
    answer({ token: 'timed-token', expiresAt: Date.now() + 3_600_000 });
    await waiting;
    events.stop();
    const request = events.seen.find((e) => e.name === 'axios-m2m:token:request')!.message as Events['axios-m2m:token:request'];
    const served = events.seen.find((e) => e.name === 'axios-m2m:token:served')!.message as Events['axios-m2m:token:served'];
    expect(request).to.include({ outcome: 'ok', duration: 1_500 });
    expect(served).to.deep.equal({ scope: SCOPE, source: 'timed', fromCache: false, duration: 1_500 });
  });

  it('publishes a failed request with its code and status, and never the secret', async () => {
    nock('https://login.example')
      .post('/t/oauth2/v2.0/token')
      .reply(401, { error: 'invalid_client', error_description: `AADSTS7000215: bad ${SECRET}` });
    const events = record();
    const source = clientCredentials({
      tokenEndpoint: 'https://login.example/t/oauth2/v2.0/token',
      clientId: 'c',
      clientSecret: SECRET,
    });
    await source.getToken(SCOPE).catch(() => {});
    events.stop();
    const request = events.seen.find((e) => e.name === 'axios-m2m:token:request')!.message;
    expect(request).to.include({ source: 'client_credentials', outcome: 'error', code: 'invalid_client', status: 401, reason: 'miss' });
    expect(JSON.stringify(events.seen)).to.not.include(SECRET);
  });

  it('publishes refresh start and error for a failing background refresh', async () => {
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
    let calls = 0;
    const source = withCache(
      async () => {
        calls += 1;
        if (calls > 1) throw new TokenError('server_error', 'down', { status: 503 });
        return { token: 't', expiresAt: Date.now() + 100_000 };
      },
      { name: 'custom-test' },
    );
    await source.getToken(SCOPE);
    await clock.tickAsync(80_000);
    const events = record();
    await source.getToken(SCOPE);
    await clock.tickAsync(0);
    events.stop();
    const byName = (name: EventName) => events.seen.filter((e) => e.name === name).map((e) => e.message);
    expect(byName('axios-m2m:refresh:start')).to.deep.equal([{ scope: SCOPE, source: 'custom-test', reason: 'ahead' }]);
    expect(byName('axios-m2m:refresh:error')).to.deep.equal([{ scope: SCOPE, source: 'custom-test', code: 'server_error', status: 503 }]);
  });

  it('publishes one retry event per refused request, saying whether a fetch was needed', async () => {
    const api = nock('https://api.example')
      .get('/warm')
      .matchHeader('authorization', 'Bearer token-1')
      .reply(200, {})
      .get('/things')
      .query({ id: '1' })
      .matchHeader('authorization', 'Bearer token-1')
      .reply(401, {})
      .get('/things')
      .query({ id: '1' })
      .matchHeader('authorization', 'Bearer token-2')
      .reply(200, {});
    let n = 0;
    const source = withCache(async () => ({ token: `token-${++n}`, expiresAt: Date.now() + 3_600_000 }));
    const instance = axios.create({ baseURL: 'https://api.example' });
    attachToken(instance, { source, scope: SCOPE });
    await instance.get('/warm');
    const events = record();
    await instance.get('/things?id=1');
    events.stop();
    expect(api.isDone()).to.equal(true);
    const retries = events.seen.filter((e) => e.name === 'axios-m2m:request:retry').map((e) => e.message as Events['axios-m2m:request:retry']);
    expect(retries).to.deep.equal([{ scope: SCOPE, status: 401, method: 'GET', path: '/things', refreshed: true, duration: retries[0]!.duration }]);
    expect(retries[0]!.duration).to.be.a('number').at.least(0);
    const starts = events.seen.filter((e) => e.name === 'axios-m2m:refresh:start').map((e) => e.message);
    expect(starts).to.deep.equal([{ scope: SCOPE, source: 'custom', reason: 'forced' }]);
  });

  it('builds no message for a channel nobody listens to, and one per publish for a listener', () => {
    for (const name of EVENT_NAMES) {
      const build = sinon.spy(() => ({}) as Events[typeof name]);
      publish(name, build);
      expect(build.callCount, `${name} without a listener`).to.equal(0);
      const stop = subscribe(name, () => {});
      publish(name, build);
      stop();
      expect(build.callCount, `${name} with a listener`).to.equal(1);
    }
  });

  it('costs a cache hit nothing when nobody listens: nothing is published', async () => {
    const source = withCache(async () => ({ token: 't', expiresAt: Date.now() + 3_600_000 }));
    await source.getToken(SCOPE);
    const served = sinon.spy(channels['axios-m2m:token:served'], 'publish');
    try {
      await source.getToken(SCOPE);
      expect(served.callCount).to.equal(0);
      const stop = subscribe('axios-m2m:token:served', () => {});
      await source.getToken(SCOPE);
      stop();
      expect(served.callCount).to.equal(1);
    } finally {
      served.restore();
    }
  });
});
