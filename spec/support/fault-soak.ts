import type { AxiosInstance } from 'axios';
import { isTokenError } from '../../lib/errors.js';
import { refreshDueAfter, type Attempt, type FlappingEndpoint, type PhaseKind } from './flapping-endpoint.js';

// The fault soak's load and its figures, shared by the spec (simulated time: `sleep` ticks sinon's
// clock) and the bench section (real time). Steady load, one request every `interval` ms through
// an axios instance with attachToken, while the token endpoint goes through `phases`.

export interface SoakPhase {
  kind: PhaseKind;
  /** Milliseconds. */
  duration: number;
  /** Seconds, for 429. @default 2 */
  retryAfter?: number;
}

/** One API request of the load. */
/**
 * The soak's course: up, then each outage (down, hanging, 503, 429 with `Retry-After`) followed by
 * a time up again. Shared by the spec (simulated time) and bench section 7 (real time).
 */
export function flappingPhases(up: number, outage: number, retryAfterSeconds: number): SoakPhase[] {
  const outages: SoakPhase[] = [
    { kind: 'down', duration: outage },
    { kind: 'hanging', duration: outage },
    { kind: '503', duration: outage },
    { kind: '429', duration: outage, retryAfter: retryAfterSeconds },
  ];
  return [{ kind: 'up', duration: up }, ...outages.flatMap((phase): SoakPhase[] => [phase, { kind: 'up', duration: up }])];
}

export interface LoadRequest {
  readonly at: number;
  readonly phase: number;
  /** Whether the endpoint had handed out a token still inside its serving window when the request was made. */
  readonly validToken: boolean;
  endedAt?: number;
  ok?: boolean;
  error?: unknown;
}

/** What the retry settings allow, from which the soak's bounds are derived. */
export interface RetrySettings {
  /** `retries` of the source. */
  retries: number;
  /** `attemptTimeout` of the source, ms. */
  attemptTimeout: number;
  /** axios-retry's exponential delay factor in lib/http/token-client.ts: retry n waits 2^n * factor (+0-20 %). */
  delayFactor: number;
  /** The load's interval, ms: the longest a request needing a token waits to start a fetch. */
  interval: number;
}

export interface PhaseFigures {
  kind: PhaseKind;
  retryAfter?: number | undefined;
  start: number;
  end: number;
  requests: number;
  failed: number;
  failedWhileValid: number;
  tokenRequests: number;
  /** The most token requests for the scope in flight at one moment of the phase. */
  maxInFlight: number;
  /** A bound on token requests in this phase, from the retry settings (see {@link tokenRequestBound}). */
  tokenRequestBound: number;
  /** Token requests that arrived before the `Retry-After` of the previous answer had passed. */
  retryAfterViolations: number;
  /** Token requests that arrived while the last token handed out was not yet due for its refresh ahead (tokens thrown away early). */
  earlyTokenRequests: number;
  /** Outage phases: from the endpoint's return to the first token it handed out, ms (undefined: none in the run). */
  recoveryMs?: number | undefined;
  /** Outage phases: the longest recovery the retry settings allow, ms (see {@link recoveryBound}). */
  recoveryBound?: number;
  /** Whether a valid token was still serving when the endpoint returned (then nothing had to recover). */
  validWhenBack?: boolean;
}

export interface SoakResult {
  phases: PhaseFigures[];
  requests: LoadRequest[];
  attempts: Attempt[];
  /** Rejections nobody handled during the soak. */
  unhandled: unknown[];
  /** Tokens the API was sent after their expiry (or never issued). */
  expiredServed: number;
  maxInFlight: number;
}

/** The longest a retry waits before it is sent: 2^n * factor, or Retry-After if longer, plus 20 % jitter. */
const longestDelay = (n: number, s: RetrySettings, retryAfterSeconds = 0) => 1.2 * Math.max(2 ** n * s.delayFactor, retryAfterSeconds * 1000);
/** The shortest: no jitter. */
const shortestDelay = (n: number, s: RetrySettings, retryAfterSeconds = 0) => Math.max(2 ** n * s.delayFactor, retryAfterSeconds * 1000);

/**
 * Token requests a phase of `duration` ms may see. Fetches for a scope never overlap (single
 * flight), each makes at most 1 + retries attempts, and its attempts are spread by at least the
 * retry delays (Retry-After when longer) plus, when the endpoint hangs, an attempt timeout each:
 * a fetch takes at least `cycle`, so a phase holds at most floor(duration / cycle) + 1 of them
 * (+1 more for one that began before the phase and ends in it).
 */
export function tokenRequestBound(phase: SoakPhase, s: RetrySettings): number {
  const attempts = 1 + s.retries;
  if (phase.kind === 'up') return Infinity; // bounded by the tokens' lifetime instead (see the spec)
  let cycle = phase.kind === 'hanging' ? attempts * s.attemptTimeout : 0;
  for (let n = 1; n <= s.retries; n++) cycle += shortestDelay(n, s, phase.kind === '429' ? (phase.retryAfter ?? 2) : 0);
  return cycle === 0 ? Infinity : attempts * (Math.floor(phase.duration / cycle) + 2);
}

/**
 * The longest from the endpoint's return to a new token, when no valid token was left: an attempt
 * in flight ends within an attempt timeout, the retry it waits for comes within the longest retry
 * delay (or Retry-After), and if that was the last retry, the next request, within one interval,
 * starts a fetch whose first attempt succeeds.
 */
export function recoveryBound(outage: SoakPhase, s: RetrySettings): number {
  const retryAfter = outage.kind === '429' ? (outage.retryAfter ?? 2) : 0;
  return s.attemptTimeout + Math.max(longestDelay(s.retries, s, retryAfter), s.interval);
}

export interface SoakOptions {
  api: AxiosInstance;
  endpoint: FlappingEndpoint;
  scope: string;
  phases: SoakPhase[];
  settings: RetrySettings;
  /** Waits `ms` (simulated: the clock's tickAsync; real: a timer). */
  sleep: (ms: number) => Promise<void>;
  /**
   * Real time only: the client dates a token from the moment it sent the request, the endpoint
   * from the moment the request arrived, a few ms later. Within `slack` ms of a token's end of
   * service or of its refresh time, a request is not counted as made with a valid token, nor a
   * token request as early. @default 0
   */
  slack?: number;
  /** Called as each phase begins (progress lines in the bench). */
  onPhase?: (phase: SoakPhase, index: number) => void;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const requests: LoadRequest[] = [];
  const pending = new Set<Promise<void>>();
  const starts: number[] = [];
  try {
    for (const [index, phase] of o.phases.entries()) {
      o.endpoint.setPhase(phase.kind, phase.retryAfter);
      o.onPhase?.(phase, index);
      const start = Date.now();
      starts.push(start);
      while (Date.now() < start + phase.duration) {
        const request: LoadRequest = { at: Date.now(), phase: index, validToken: o.endpoint.validAt(o.scope, Date.now() + (o.slack ?? 0)) };
        requests.push(request);
        const done: Promise<void> = o.api.get('/things').then(
          () => void (request.ok = true),
          (error: unknown) => void ((request.ok = false), (request.error = error)),
        );
        const settled = done.finally(() => {
          request.endedAt = Date.now();
          pending.delete(settled);
        });
        pending.add(settled);
        await o.sleep(o.settings.interval);
      }
    }
    // The endpoint stays up while the last requests finish (bounded: the deadline ends every fetch).
    o.endpoint.setPhase('up');
    for (let i = 0; pending.size > 0 && i < 1_000; i++) await o.sleep(o.settings.interval);
    await o.sleep(0); // a last turn, for rejections that would go unhandled
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return figures(o, requests, starts, unhandled);
}

function figures(o: SoakOptions, requests: LoadRequest[], starts: number[], unhandled: unknown[]): SoakResult {
  const attempts = o.endpoint.attempts.filter((a) => a.scope === o.scope);
  const end = Date.now();
  const phases = o.phases.map((phase, index): PhaseFigures => {
    const start = starts[index]!;
    const until = starts[index + 1] ?? end;
    const mine = requests.filter((r) => r.phase === index);
    const inPhase = attempts.filter((a) => a.at >= start && a.at < until);
    const failed = mine.filter((r) => r.ok === false);
    const figures: PhaseFigures = {
      kind: phase.kind,
      retryAfter: phase.kind === '429' ? (phase.retryAfter ?? 2) : undefined,
      start,
      end: until,
      requests: mine.length,
      failed: failed.length,
      failedWhileValid: failed.filter((r) => r.validToken).length,
      tokenRequests: inPhase.length,
      maxInFlight: maxOverlap(attempts, start, until),
      tokenRequestBound: tokenRequestBound(phase, o.settings),
      retryAfterViolations: retryAfterViolations(attempts, start, until),
      earlyTokenRequests: earlyTokenRequests(attempts, start, until, o.slack ?? 0),
    };
    if (phase.kind !== 'up' && starts[index + 1] !== undefined) {
      const back = starts[index + 1]!;
      const first = attempts.find((a) => a.at >= back && a.outcome === 'up');
      figures.validWhenBack = o.endpoint.validAt(o.scope, back);
      figures.recoveryMs = first === undefined ? undefined : first.at - back;
      figures.recoveryBound = recoveryBound(phase, o.settings);
    }
    return figures;
  });
  return {
    phases,
    requests,
    attempts,
    unhandled,
    expiredServed: o.endpoint.refused.length,
    maxInFlight: o.endpoint.maxInFlight(o.scope),
  };
}

/** The most attempts in flight at one moment in [start, until): the maximum is reached at some attempt's arrival, or at `start`. */
function maxOverlap(attempts: Attempt[], start: number, until: number): number {
  // An attempt answered at once is in flight at its arrival.
  const active = (t: number) => attempts.filter((a) => a.at <= t && (a.endedAt === undefined || a.endedAt > t || a.at === t)).length;
  let max = active(start);
  for (const a of attempts) if (a.at >= start && a.at < until) max = Math.max(max, active(a.at));
  return max;
}

/** Attempts arriving in [start, until) before the Retry-After of the attempt answered just before them had passed. */
function retryAfterViolations(attempts: Attempt[], start: number, until: number): number {
  let violations = 0;
  for (let i = 1; i < attempts.length; i++) {
    const previous = attempts[i - 1]!;
    const attempt = attempts[i]!;
    if (attempt.at < start || attempt.at >= until || previous.retryAfter === undefined) continue;
    if (attempt.at < previous.at + previous.retryAfter * 1000) violations += 1;
  }
  return violations;
}

/** Attempts in [start, until), not forced, made before the token answered last was due for its refresh ahead. */
function earlyTokenRequests(attempts: Attempt[], start: number, until: number, slack: number): number {
  let early = 0;
  let last: Attempt | undefined;
  for (const attempt of attempts) {
    const due = last === undefined ? -Infinity : last.at + refreshDueAfter(last.expiresIn!) - slack;
    if (attempt.at >= start && attempt.at < until && !attempt.forced && attempt.at < due) early += 1;
    if (attempt.expiresIn !== undefined) last = attempt;
  }
  return early;
}

/** The failures of a run that are not a TokenError, or whose code does not match the endpoint's last answer before them. */
export function unexplainedFailures(result: SoakResult): { at: number; phase: number; why: string }[] {
  const expected: Record<PhaseKind, string[]> = {
    up: [],
    down: ['network'],
    hanging: ['timeout'],
    '503': ['temporarily_unavailable'],
    // The flapping endpoint's `too_many_requests` is no OAuth error code: code unknown, kept in oauthError.
    '429': ['unknown', 'throttled'],
  };
  const out: { at: number; phase: number; why: string }[] = [];
  for (const request of result.requests) {
    if (request.ok !== false) continue;
    const error = request.error;
    if (!isTokenError(error)) {
      out.push({ at: request.at, phase: request.phase, why: `not a TokenError: ${String((error as Error)?.message ?? error)}` });
      continue;
    }
    const last = result.attempts.filter((a) => a.at <= request.endedAt!).at(-1);
    const codes = last === undefined ? [] : expected[last.outcome];
    if (!codes.includes(error.code)) out.push({ at: request.at, phase: request.phase, why: `code ${error.code} after a ${last?.outcome ?? 'no'} answer` });
  }
  return out;
}
