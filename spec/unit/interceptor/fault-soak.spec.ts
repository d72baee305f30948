import axios from 'axios';
import { expect } from 'chai';
import sinon from 'sinon';
import type { CachedTokenSource } from '../../../lib/cache/with-cache.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { texas } from '../../../lib/sources/texas.js';
import type { AccessToken, TokenSource } from '../../../lib/types.js';
import { flappingPhases, runSoak, unexplainedFailures, type PhaseFigures, type RetrySettings, type SoakPhase, type SoakResult } from '../../support/fault-soak.js';
import { FlappingEndpoint } from '../../support/flapping-endpoint.js';

// The fault soak, in simulated time: a request every 100 ms through attachToken, 6 s
// tokens, while the token endpoint goes down (connection refused), hangs, answers 503, answers 429
// with Retry-After, and comes back between each. The token endpoint and the API are axios adapters
// (spec/support/flapping-endpoint.ts), so every wait is a timer on sinon's clock and a run is
// deterministic. bench/sections/07-fault-soak.ts runs the same scenario in real time on loopback.
//
// Each outage lasts longer than a token, so the soak shows both halves of the promise: no request
// fails while a valid token exists, and once none is left, requests fail with a TokenError whose
// code says why, while the endpoint sees a bounded number of requests.

const SCOPE = 'api://dev-gcp.team.api/.default';
const LIFETIME = 6; // seconds
const SETTINGS: RetrySettings = { retries: 3, attemptTimeout: 1_000, delayFactor: 200, interval: 100 };
const HTTP = { retries: SETTINGS.retries, attemptTimeout: SETTINGS.attemptTimeout, timeout: 10_000 };
const OUTAGE = 12_000;
const UP = 8_000;
const PHASES = flappingPhases(UP, OUTAGE, 2);

type SourceKind = 'texas' | 'clientCredentials';

function createSource(kind: SourceKind, options: Record<string, unknown> = {}): TokenSource {
  return kind === 'texas'
    ? texas({ endpoint: 'http://127.0.0.1:7164/api/v1/token', ...HTTP, ...options })
    : clientCredentials({
        tokenEndpoint: 'https://login.example/tenant/oauth2/v2.0/token',
        clientId: 'soak-client',
        clientSecret: 'soak-secret-5d1f',
        proxy: false,
        ...HTTP,
        ...options,
      });
}

interface Run {
  kind: SourceKind;
  phases?: SoakPhase[];
  options?: Record<string, unknown>;
  /** A mutation: what attachToken gets instead of the source. */
  wrap?: (source: TokenSource, endpoint: FlappingEndpoint) => TokenSource;
}

/** One soak in simulated time. */
async function soak(run: Run): Promise<SoakResult> {
  const clock = simulatedTime();
  try {
    return await soakOn(clock, run);
  } finally {
    clock.restore();
    sinon.restore();
  }
}

async function soakOn(clock: sinon.SinonFakeTimers, run: Run): Promise<SoakResult> {
  const endpoint = new FlappingEndpoint({ lifetime: LIFETIME, texasCache: run.kind === 'texas' });
  // The package's token clients talk through axios.create() instances (made when a source is
  // created, or on its first request): for the soak, axios's default adapter is the endpoint's.
  const before = axios.defaults.adapter;
  axios.defaults.adapter = endpoint.adapter();
  try {
    const source = createSource(run.kind, run.options);
    const api = axios.create({ baseURL: 'https://api.example', adapter: endpoint.apiAdapter() });
    attachToken(api, { source: run.wrap ? run.wrap(source, endpoint) : source, scope: SCOPE });
    return await runSoak({
      api,
      endpoint,
      scope: SCOPE,
      phases: run.phases ?? PHASES,
      settings: SETTINGS,
      sleep: async (ms) => void (await clock.tickAsync(ms)),
    });
  } finally {
    if (before === undefined) delete axios.defaults.adapter;
    else axios.defaults.adapter = before;
  }
}

/**
 * Simulated time for a soak: timers and Date only (the promise machinery stays real), and a seeded
 * Math.random for the jitter of retries and refreshes, so that a run is the same every time.
 */
function simulatedTime(seed = 13): sinon.SinonFakeTimers {
  // performance too: the token client keeps a Retry-After on the monotonic clock, and a real one
  // would advance by however long the machine took while the simulated one jumped, so a loaded
  // machine sent the request after a 429 that much early.
  const clock = sinon.useFakeTimers({ now: 1_700_000_000_000, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  let state = seed;
  sinon.stub(Math, 'random').callsFake(() => {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  });
  // AbortSignal.timeout runs on Node's internal timers, which no fake clock reaches: give it the fake one.
  sinon.stub(AbortSignal, 'timeout').callsFake((ms: number) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
    return controller.signal;
  });
  return clock;
}

function print(kind: string, result: SoakResult): void {
  const row = (p: PhaseFigures) =>
    [
      p.kind === '429' ? `429 (Retry-After ${p.retryAfter} s)` : p.kind,
      `${p.requests} requests`,
      `${p.failed} failed (${p.failedWhileValid} with a valid token)`,
      `${p.tokenRequests} token requests${Number.isFinite(p.tokenRequestBound) ? ` (bound ${p.tokenRequestBound})` : ''}`,
      `max ${p.maxInFlight} in flight`,
      p.earlyTokenRequests ? `${p.earlyTokenRequests} before the last token was due for refresh` : '',
      p.retryAfterViolations ? `${p.retryAfterViolations} before Retry-After` : '',
      p.recoveryMs === undefined ? '' : `recovered in ${p.recoveryMs} ms (bound ${Math.round(p.recoveryBound!)})`,
    ]
      .filter(Boolean)
      .join(', ');
  console.log(`      ${kind}:\n${result.phases.map((p) => `        ${row(p)}`).join('\n')}`);
}

const outages = (result: SoakResult) => result.phases.filter((p) => p.kind !== 'up');

describe('fault soak: steady load through 6 s tokens while the token endpoint flaps (simulated time)', function () {
  this.timeout(120_000);

  for (const kind of ['texas', 'clientCredentials'] as const) {
    describe(`${kind}()`, () => {
      let result: SoakResult;
      before(async () => {
        result = await soak({ kind });
        print(kind, result);
      });

      it('fails no request while a valid token exists; every other failure is a TokenError whose code says why', () => {
        expect(result.requests.length).to.be.at.least(800);
        expect(result.phases.map((p) => p.failedWhileValid)).to.deep.equal(result.phases.map(() => 0));
        expect(unexplainedFailures(result)).to.deep.equal([]);
        // Each outage outlasts a token: the soak did reach the point where no valid token was left.
        for (const outage of outages(result)) expect(outage.failed, `${outage.kind}: requests failed once no token was left`).to.be.above(0);
        // Once the endpoint is back, only requests that joined a fetch begun before (an attempt that
        // hung, a last retry) can fail, and only until that fetch ends: within one backoff.
        result.phases.forEach((up, i) => {
          if (up.kind !== 'up' || i === 0) return;
          const failedLate = result.requests.filter((r) => r.phase === i && r.ok === false && r.endedAt! > up.start + result.phases[i - 1]!.recoveryBound!);
          expect(failedLate, `requests failing later than one backoff after the endpoint came back (phase ${i})`).to.deep.equal([]);
        });
      });

      it('never has more than one token request in flight for the scope', () => {
        expect(result.maxInFlight).to.equal(1);
        expect(result.phases.map((p) => p.maxInFlight)).to.satisfy((all: number[]) => all.every((n) => n <= 1));
      });

      it('keeps token requests in each outage under the bound of the retry settings, never one per request', () => {
        for (const outage of outages(result)) {
          expect(outage.tokenRequests, `${outage.kind}: token requests`).to.be.at.most(outage.tokenRequestBound);
          expect(outage.tokenRequests, `${outage.kind}: far fewer than requests`).to.be.below(outage.requests / 4);
        }
      });

      it('never sends a token request before the Retry-After of the 429 before it, within a fetch or across fetches', () => {
        expect(result.attempts.filter((a) => a.outcome === '429').length, '429s were answered').to.be.above(3);
        expect(result.phases.map((p) => p.retryAfterViolations)).to.deep.equal(result.phases.map(() => 0));
      });

      it('uses the tokens it gets: no token request before the last token handed out is due for its refresh, after an outage too', () => {
        expect(result.phases.map((p) => p.earlyTokenRequests)).to.deep.equal(result.phases.map(() => 0));
      });

      it('gets a new token within one backoff of the endpoint coming back', () => {
        for (const outage of outages(result)) {
          expect(outage.validWhenBack, `${outage.kind}: no valid token was left when the endpoint came back`).to.equal(false);
          expect(outage.recoveryMs, `${outage.kind}: recovery`).to.be.a('number');
          expect(outage.recoveryMs!, `${outage.kind}: recovery`).to.be.at.most(outage.recoveryBound!);
        }
      });

      it('leaves no rejection unhandled and sends no token after its expiry', () => {
        expect(result.unhandled).to.deep.equal([]);
        expect(result.expiredServed).to.equal(0);
      });
    });
  }
});

// Each check above must fail when the behaviour it names breaks. These runs break one behaviour
// each (from outside lib/: a wrapped source or an option) and show that the check sees it.
describe('fault soak: its checks catch what they are for', function () {
  this.timeout(120_000);
  const short: SoakPhase[] = [
    { kind: 'up', duration: 3_000 },
    { kind: 'down', duration: 8_000 },
    { kind: 'up', duration: 5_000 },
  ];

  it('a cache that never lets a token go: tokens sent after their expiry', async () => {
    const result = await soak({
      kind: 'clientCredentials',
      phases: short,
      wrap: (source) => {
        let kept: Promise<AccessToken> | undefined;
        return { getToken: (scope, options) => (options?.forceRefresh ? source.getToken(scope, options) : (kept ??= source.getToken(scope, options))) };
      },
    });
    expect(result.expiredServed).to.be.above(0);
  });

  it('callers made to wait for the refresh ahead (and get its failure): requests failed while a valid token existed', async () => {
    const result = await soak({
      kind: 'texas',
      phases: short,
      wrap: (source) => {
        let current: { token: string; due: number } | undefined;
        return {
          async getToken(scope, options) {
            const refresh = current !== undefined && Date.now() >= current.due;
            const token = await source.getToken(scope, refresh ? { ...options, forceRefresh: true } : options);
            if (token.token !== current?.token) current = { token: token.token, due: Date.now() + (token.expiresAt - Date.now()) / 2 };
            return token;
          },
        };
      },
    });
    expect(result.phases.reduce((n, p) => n + p.failedWhileValid, 0)).to.be.above(0);
  });

  it('errors that lose their code (a plain Error): failures the check cannot explain', async () => {
    const result = await soak({
      kind: 'clientCredentials',
      phases: short,
      wrap: (source) => ({ getToken: (scope, options) => source.getToken(scope, options).catch(() => Promise.reject(new Error('token failed'))) }),
    });
    expect(unexplainedFailures(result).length).to.be.above(0);
  });

  it('no single flight (a new source for every request): more than one token request in flight, more than the bound', async () => {
    const result = await soak({
      kind: 'texas',
      phases: [
        { kind: 'up', duration: 2_000 },
        { kind: 'hanging', duration: 6_000 },
        { kind: 'up', duration: 3_000 },
      ],
      wrap: () => ({ getToken: (scope, options) => createSource('texas').getToken(scope, options) }),
    });
    expect(result.maxInFlight).to.be.above(1);
    expect(result.phases[1]!.tokenRequests).to.be.above(result.phases[1]!.tokenRequestBound);
  });

  it('failures remembered for 10 s: recovery slower than one backoff', async () => {
    const result = await soak({
      kind: 'clientCredentials',
      phases: [...short.slice(0, 2), { kind: 'up', duration: 12_000 }],
      wrap: (source) => {
        let failedUntil = 0;
        let failure: unknown;
        return {
          async getToken(scope, options) {
            if (Date.now() < failedUntil) throw failure;
            try {
              return await source.getToken(scope, options);
            } catch (error) {
              [failure, failedUntil] = [error, Date.now() + 10_000];
              throw error;
            }
          },
        };
      },
    });
    expect(result.phases[1]!.recoveryMs).to.be.above(result.phases[1]!.recoveryBound!);
  });

  it('a fetch whose failure nobody handles: unhandled rejections', async () => {
    const result = await soak({
      kind: 'clientCredentials',
      phases: short,
      wrap: (source) => ({
        getToken(scope, options) {
          const token = source.getToken(scope, options);
          void token.then(() => undefined); // a then without a catch: its failure goes unhandled
          return token;
        },
      }),
    });
    expect(result.unhandled.length).to.be.above(0);
  });

  it('Retry-After ignored (maxRetryAfter 0: a 429 fails at once and the next request asks again): token requests before Retry-After', async () => {
    const phase: SoakPhase = { kind: '429', duration: 8_000 };
    const result = await soak({ kind: 'texas', phases: [{ kind: 'up', duration: 3_000 }, phase, { kind: 'up', duration: 3_000 }], options: { maxRetryAfter: 0 } });
    expect(result.phases[1]!.retryAfterViolations).to.be.above(0);
  });

  it('a cache emptied on every call: token requests before the last token was due for refresh', async () => {
    const result = await soak({
      kind: 'clientCredentials',
      phases: [{ kind: 'up', duration: 3_000 }],
      wrap: (source) => ({
        getToken(scope, options) {
          (source as CachedTokenSource).clear();
          return source.getToken(scope, options);
        },
      }),
    });
    expect(result.phases[0]!.earlyTokenRequests).to.be.above(1);
  });
});
