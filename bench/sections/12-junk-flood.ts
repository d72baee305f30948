// A flood of distinct junk bearer tokens beside one legitimate caller, all through one
// requireToken() in this process, with the testing server as Texas: how many introspections
// Texas gets, what the caller's requests cost (p50/p99 of its own calls through the middleware) and
// how often its cached result was evicted (Texas asked for it again). Without junk; with junk that
// is no JWS (refused before Texas is asked); with forged tokens of the right shape (only Texas can
// refuse them, so they do reach it, at most `concurrency` at a time, and are kept as refusals apart
// from the caller's result).
import { requireToken } from '../../lib/inbound/require-token.js';
import { startTexasServer, type TexasServer } from '../../lib/testing/texas-server.js';
import { QUICK, fmt, progress, table } from '../support.js';

export const heading = '12. A junk flood beside a legitimate caller';

const JUNK = QUICK ? 500 : 50_000;
const FORGED = QUICK ? 100 : 2_000;
const IN_FLIGHT = 200;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const SIGNATURE = Buffer.from('not-a-signature-of-anything').toString('base64url');

/** Distinct junk of the kinds a scanner or a broken client sends: none of it a JWS Texas could accept. */
function junk(i: number): string {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  switch (i % 5) {
    case 0:
      return `opaque-${i}-${(i * 2_654_435_761) % 4_294_967_296}`;
    case 1:
      return `${b64({ alg: 'RS256', kid: 'entra_id' })}.${b64({ exp, jti: i })}`;
    case 2:
      return `${b64({ alg: 'none', kid: 'entra_id' })}.${b64({ exp, jti: i })}.${SIGNATURE}`;
    case 3:
      return `${b64({ alg: 'RS256' })}.${b64({ exp, jti: i })}.${SIGNATURE}`;
    default:
      return `${b64({ alg: 'RS256', kid: 'entra_id' })}.${b64({ exp: exp - 7200, jti: i })}.${SIGNATURE}`;
  }
}

/** A JWS's shape, the provider's kid, a fresh exp, a signature of nothing: only Texas can refuse it. */
function forged(i: number): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'ES256', kid: 'entra_id', typ: 'JWT' })}.${b64({ iss: 'forger', aud: 'anyone', iat: now, exp: now + 3600, jti: i })}.${SIGNATURE}`;
}

interface Outcome {
  junkSent: number;
  texasForJunk: number;
  callerCalls: number;
  p50: number;
  p99: number;
  evictions: number;
  ms: number;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;

async function variant(texas: TexasServer, flood: ((i: number) => string) | undefined, count: number, callerCalls: number): Promise<Outcome> {
  const middleware = requireToken({ endpoint: texas.introspectionEndpoint });
  const pass = (token: string) =>
    new Promise<boolean>((resolve) => middleware({ headers: { authorization: `Bearer ${token}` } }, undefined, (error?: unknown) => resolve(error === undefined)));
  const caller = await texas.mintUserToken(`caller-${Math.random().toString(36).slice(2)}`);
  if (!(await pass(caller))) throw new Error('bench: the testing server refused its own token');
  const before = texas.requests.length; // the caller's result is cached from here: any introspection for it is an eviction
  const started = performance.now();
  let done = flood === undefined;
  let next = 0;
  const workers =
    flood === undefined
      ? []
      : Array.from({ length: IN_FLIGHT }, async () => {
          while (next < count) {
            if (await pass(flood(next++))) throw new Error('bench: a junk token was let through');
            await new Promise((resolve) => setImmediate(resolve)); // as the caller's: requests arrive through I/O
          }
        });
  const floodDone = Promise.all(workers).then(() => void (done = true));
  // The legitimate caller, one request at a time: for as long as the flood runs, or callerCalls times without one.
  const latencies: number[] = [];
  while (flood === undefined ? latencies.length < callerCalls : !done) {
    const t = performance.now();
    if (!(await pass(caller))) throw new Error('bench: the legitimate caller was refused');
    latencies.push(performance.now() - t);
    // A caller's requests arrive through I/O: a turn of the event loop between them (a cache hit
    // alone never yields, and would starve the flood's requests to Texas).
    await new Promise((resolve) => setImmediate(resolve));
  }
  await floodDone;
  const ms = performance.now() - started;
  const introspections = texas.requests.slice(before).filter((r) => r.path === '/api/v1/introspect');
  const forCaller = introspections.filter((r) => r.body.token === caller).length;
  latencies.sort((a, b) => a - b);
  return {
    junkSent: flood === undefined ? 0 : count,
    texasForJunk: introspections.length - forCaller,
    callerCalls: latencies.length,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    evictions: forCaller,
    ms,
  };
}

export default async function run(): Promise<void> {
  const texas = await startTexasServer();
  try {
    progress(`junk flood: with ${fmt(JUNK)} junk tokens, ${IN_FLIGHT} in flight`);
    const withJunk = await variant(texas, junk, JUNK, 0);
    progress(`junk flood: with ${fmt(FORGED)} forged tokens of the right shape, ${IN_FLIGHT} in flight`);
    const withForged = await variant(texas, forged, FORGED, 0);
    progress('junk flood: without junk');
    const without = await variant(texas, undefined, 0, Math.max(withJunk.callerCalls, 100));
    const row = (name: string, o: Outcome) => [
      name,
      fmt(o.junkSent),
      fmt(o.texasForJunk),
      fmt(o.callerCalls),
      fmt(o.p50 * 1000, 1),
      fmt(o.p99 * 1000, 1),
      fmt(o.evictions),
      fmt(o.ms),
    ];
    table(
      `${heading} (requireToken() in one process, the testing server as Texas; the caller one request at a time while ${IN_FLIGHT} junk requests are in flight)`,
      [
        'variant',
        'junk tokens',
        'Texas introspections for junk (retries included)',
        "caller's requests",
        'caller p50 (µs)',
        'caller p99 (µs)',
        "caller's evictions",
        'wall ms',
      ],
      [row('without junk', without), row('with junk that is no JWS (distinct tokens)', withJunk), row('with forged tokens of the right shape (distinct)', withForged)],
    );
  } finally {
    await texas.close();
  }
}
