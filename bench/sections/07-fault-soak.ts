// The fault soak of spec/unit/interceptor/fault-soak.spec.ts in real time on loopback: a Texas-shaped
// token endpoint handing out 6 s tokens (for texas(), with Texas's own cache; for
// clientCredentials(), a new token each time) goes down (connections reset), hangs, answers 503,
// answers 429 with Retry-After, and comes back between each, while an axios instance with
// attachToken sends a request every 100 ms to an API that accepts only unexpired tokens. Both
// sources run side by side, each against its own endpoint and API.
import axios from 'axios';
import { attachToken, clientCredentials, texas, type TokenSource } from '../../lib/index.js';
import { flappingPhases, runSoak, unexplainedFailures, type RetrySettings, type SoakResult } from '../../spec/support/fault-soak.js';
import { FlappingEndpoint } from '../../spec/support/flapping-endpoint.js';
import { fmt, progress, QUICK, table } from '../support.js';

export const heading = '7. Fault soak';

const SCOPE = 'api://dev-gcp.team.api/.default';
const LIFETIME = 6; // seconds
const SETTINGS: RetrySettings = { retries: 3, attemptTimeout: 1_000, delayFactor: 200, interval: 100 };
const TIMEOUT = 10_000;
const OUTAGE = QUICK ? 300 : 10_000;
const UP = QUICK ? 200 : 4_000;
/** See runSoak's `slack`: one load interval. */
const SLACK = 100;
const RETRY_AFTER = QUICK ? 1 : 2; // seconds
const PHASES = flappingPhases(UP, OUTAGE, RETRY_AFTER);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const NAMES = { up: 'up', down: 'down (connection reset)', hanging: 'hanging (no answer)', '503': '503', '429': `429, Retry-After ${RETRY_AFTER} s` } as const;

async function soak(kind: 'texas' | 'clientCredentials'): Promise<SoakResult> {
  const endpoint = new FlappingEndpoint({ lifetime: LIFETIME, texasCache: kind === 'texas' });
  const tokenServer = await endpoint.listen();
  const apiServer = await endpoint.listenApi();
  try {
    const http = { retries: SETTINGS.retries, attemptTimeout: SETTINGS.attemptTimeout, timeout: TIMEOUT };
    const source: TokenSource =
      kind === 'texas'
        ? texas({ endpoint: `${tokenServer.url}/api/v1/token`, ...http })
        : clientCredentials({ tokenEndpoint: `${tokenServer.url}/tenant/oauth2/v2.0/token`, clientId: 'soak-client', clientSecret: 'soak-secret-5d1f', ...http });
    const api = axios.create({ baseURL: apiServer.url });
    attachToken(api, { source, scope: SCOPE });
    return await runSoak({
      api,
      endpoint,
      scope: SCOPE,
      phases: PHASES,
      settings: SETTINGS,
      sleep,
      slack: SLACK,
      onPhase: (phase, index) => kind === 'texas' && progress(`7. fault soak: ${NAMES[phase.kind]} for ${phase.duration / 1000} s (${index + 1}/${PHASES.length})`),
    });
  } finally {
    await tokenServer.close();
    await apiServer.close();
  }
}

function print(kind: string, result: SoakResult): void {
  const seconds = (ms: number) => `${fmt(ms / 1000, 1)} s`;
  table(
    `${heading}: ${kind}() (${LIFETIME} s tokens, a request every ${SETTINGS.interval} ms; attemptTimeout ${seconds(SETTINGS.attemptTimeout)}, retries ${SETTINGS.retries}, timeout ${seconds(TIMEOUT)})`,
    [
      'phase',
      'length',
      'requests',
      'failed, no valid token left',
      'failed while a valid token existed',
      'token requests (bound)',
      'most in flight',
      'time to recover (bound)',
    ],
    result.phases.map((p) => [
      NAMES[p.kind],
      seconds(p.end - p.start),
      p.requests,
      p.failed - p.failedWhileValid,
      p.failedWhileValid,
      Number.isFinite(p.tokenRequestBound) ? `${p.tokenRequests} (${p.tokenRequestBound})` : p.tokenRequests,
      p.maxInFlight,
      p.recoveryMs === undefined ? '' : `${fmt(p.recoveryMs)} ms (${fmt(p.recoveryBound!)} ms)`,
    ]),
  );
}

export default async function run(): Promise<void> {
  // Side by side: each has its own endpoint, API and clock of phases; the machine sees 20 requests a second.
  const [ofTexas, ofClientCredentials] = await Promise.all([soak('texas'), soak('clientCredentials')]);
  print('texas', ofTexas);
  print('clientCredentials', ofClientCredentials);
  const total = (result: SoakResult, pick: (p: SoakResult['phases'][number]) => number) => result.phases.reduce((n, p) => n + pick(p), 0);
  table(
    `${heading}: the whole run`,
    ['figure', 'texas()', 'clientCredentials()'],
    [
      ['requests', ...[ofTexas, ofClientCredentials].map((r) => fmt(r.requests.length))],
      ['failed while a valid token existed', ...[ofTexas, ofClientCredentials].map((r) => total(r, (p) => p.failedWhileValid))],
      ['failures that are not a TokenError with the code of the last answer', ...[ofTexas, ofClientCredentials].map((r) => unexplainedFailures(r).length)],
      ['token requests', ...[ofTexas, ofClientCredentials].map((r) => r.attempts.length)],
      ["token requests before a 429's Retry-After had passed", ...[ofTexas, ofClientCredentials].map((r) => total(r, (p) => p.retryAfterViolations))],
      ['token requests before the last token was due for refresh', ...[ofTexas, ofClientCredentials].map((r) => total(r, (p) => p.earlyTokenRequests))],
      ['most token requests in flight for the scope', ...[ofTexas, ofClientCredentials].map((r) => r.maxInFlight)],
      ['tokens sent to the API after their expiry', ...[ofTexas, ofClientCredentials].map((r) => r.expiredServed)],
      ['unhandled rejections (both runs share the process)', ...[ofTexas, ofClientCredentials].map((r) => r.unhandled.length)],
    ],
  );
  console.log(
    `\n"A valid token existed": the last token the endpoint handed out was still inside the time the package serves it (expires_in less up to 1 s, less a tenth: 4.5 s of a 6 s token), with more than ${SLACK} ms of it left (the client dates a token from sending its request, the endpoint from its arrival). Bounds: token requests <= (1 + retries) x (floor(phase / shortest failing fetch) + 2); recovery <= attemptTimeout + the longest retry delay (or Retry-After) + 20 % jitter.`,
  );
}
