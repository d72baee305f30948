// Thousands of axios requests wait on one token request that fails. In 0.1.0
// every waiter got the same TokenError and axios appended each caller's stack to it, so the one
// object grew with the number of waiters (1.3 MB for 5,000) and delivering the rejections took
// seconds. Now each waiter gets its own copy. Both run here through the same path: an axios
// instance with attachToken and an in-process adapter (no request is ever sent), the token
// request failing once every request waits on it.
import axios, { type AxiosAdapter } from 'axios';
import { performance } from 'node:perf_hooks';
import { attachToken, TokenError, withCache, type AccessToken, type TokenSource } from '../../lib/index.js';
import { fmt, median, progress, QUICK, ROUNDS, table } from '../support.js';

export const heading = '6. One failing token request, 5,000 waiters';

const WAITERS = QUICK ? 200 : 5_000;
const SCOPE = 'api://dev-gcp.team.api/.default';
const failure = () =>
  new TokenError('server_error', `token request for ${SCOPE} failed: 503 server_error (http://127.0.0.1:7164/api/v1/token)`, {
    status: 503,
    scope: SCOPE,
  });

/** A source whose one token request fails when `fail` is called. */
interface Scenario {
  source: TokenSource;
  fail(): void;
}

/** This package: withCache around a fetch that fails; waiters share the fetch, not its error. */
function current(): Scenario {
  let reject: (error: unknown) => void = () => {};
  const fetch = () => new Promise<AccessToken>((_resolve, r) => (reject = r));
  return { source: withCache(fetch), fail: () => reject(failure()) };
}

/** What 0.1.0's cache did: every caller is handed the same promise, so the same rejected error. */
function shared(): Scenario {
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<AccessToken>((_resolve, r) => (reject = r));
  promise.catch(() => {});
  return { source: { getToken: () => promise }, fail: () => reject(failure()) };
}

interface Result {
  /** From the failure to the last rejection an axios caller saw, in ms. */
  ms: number;
  /** The largest `err.stack` a caller got, in characters. */
  largestStack: number;
  distinct: number;
}

const adapter: AxiosAdapter = async () => {
  throw new Error('no request is sent: the token never comes');
};

async function once(scenario: Scenario): Promise<Result> {
  const api = axios.create({ baseURL: 'http://127.0.0.1:1', adapter });
  attachToken(api, { source: scenario.source, scope: SCOPE });
  const errors: unknown[] = [];
  let last = 0;
  // Each caller awaits its request, as application code does: its async stack then differs from
  // the others' (`at async Promise.all (index i)`), so axios's duplicate check does not skip it.
  const all = Promise.all(
    Array.from({ length: WAITERS }, async (_, i) => {
      try {
        await api.get(`/items/${i}`);
      } catch (error) {
        last = performance.now();
        errors.push(error);
      }
    }),
  );
  await new Promise((resolve) => setImmediate(resolve)); // every request is waiting for the token
  const start = performance.now();
  scenario.fail();
  await all;
  const stacks = errors.map((e) => String((e as Error).stack ?? '').length);
  return { ms: last - start, largestStack: Math.max(...stacks), distinct: new Set(errors).size };
}

async function measure(make: () => Scenario, rounds: number): Promise<Result> {
  const results: Result[] = [];
  for (let round = 0; round < rounds; round++) results.push(await once(make()));
  return {
    ms: median(results.map((r) => r.ms)),
    largestStack: Math.max(...results.map((r) => r.largestStack)),
    distinct: Math.min(...results.map((r) => r.distinct)),
  };
}

const size = (chars: number) => (chars < 10_000 ? `${fmt(chars)} B` : `${fmt(chars / 1024)} KiB`);

export default async function run(): Promise<void> {
  progress(`6. ${fmt(WAITERS)} waiters on one failing token request`);
  const rows: (string | number)[][] = [];
  // The shared error's stack grows with every waiter and axios's duplicate check reads all of it:
  // quadratic, over a minute for 5,000 on a busy machine, so one round of it is enough.
  for (const [name, make, rounds] of [
    ['this version: each waiter gets its own error', current, ROUNDS],
    ["0.1.0's behaviour: one shared rejected promise", shared, 1],
  ] as const) {
    const result = await measure(make, rounds);
    rows.push([name, fmt(WAITERS), `${fmt(result.ms)} ms`, size(result.largestStack), fmt(result.distinct), rounds === 1 ? '1' : `median of ${rounds}`]);
  }
  table(
    `${heading} (axios requests through attachToken, in-process adapter${QUICK ? `; QUICK: ${WAITERS} waiters` : ''})`,
    ['source', 'waiters', 'failure → last rejection', 'largest err.stack', 'distinct error objects', 'rounds'],
    rows,
  );
}
