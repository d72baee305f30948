// npm run bench: axios-m2m side by side with what users would pick instead, in one run on one
// machine. Variants alternate in rounds so that machine noise hits all of them; figures are
// medians of rounds. BENCH_QUICK=1 runs every figure with tiny counts (for the test suite).
import { ClientSecretCredential, getBearerTokenProvider } from '@azure/identity';
import { createHttpHeaders, type PipelineRequest } from '@azure/core-rest-pipeline';
import axios, { AxiosHeaders, type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import * as authRefresh from 'axios-auth-refresh';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { attachToken, clientCredentials, tokenInterceptor, withCache } from '../lib/index.js';
import {
  close,
  fmt,
  median,
  MICRO_TIME,
  msalClient,
  p50,
  progress,
  QUICK,
  ROUNDS,
  startApi,
  startTokenEndpoint,
  table,
  type Api,
  type TokenEndpoint,
} from './support.js';

// axios-auth-refresh is CommonJS with a default export: reach it the same way from tsx and tsc.
type CreateAuthRefresh = (instance: AxiosInstance, refresh: (error: unknown) => Promise<unknown>) => number;
const authRefreshModule = authRefresh as unknown as { default: CreateAuthRefresh | { default: CreateAuthRefresh } };
const createAuthRefreshInterceptor: CreateAuthRefresh = typeof authRefreshModule.default === 'function' ? authRefreshModule.default : authRefreshModule.default.default;

/** msal-node against the loopback token endpoint (see msalClient in bench/support.ts). */
function msal(endpoint: TokenEndpoint) {
  const app = msalClient(endpoint.url);
  return { get: (scope: string) => app.acquireTokenByClientCredential({ scopes: [scope] }) };
}

/** @azure/identity's ClientSecretCredential with an in-process http client (no network, no TLS). */
function identity() {
  let posts = 0;
  const httpClient = {
    async sendRequest(request: PipelineRequest) {
      const headers = createHttpHeaders({ 'content-type': 'application/json' });
      if (request.method === 'GET') {
        const metadata = {
          token_endpoint: 'https://login.test/tenant/oauth2/v2.0/token',
          issuer: 'https://login.test/tenant/v2.0',
          authorization_endpoint: 'https://login.test/tenant/oauth2/v2.0/authorize',
          jwks_uri: 'https://login.test/keys',
          end_session_endpoint: 'https://login.test/logout',
        };
        return { status: 200, headers, request, bodyAsText: JSON.stringify(metadata) };
      }
      posts += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      const scope = new URLSearchParams(typeof request.body === 'string' ? request.body : '').get('scope');
      return {
        status: 200,
        headers,
        request,
        bodyAsText: JSON.stringify({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: `identity-${posts}`, scope }),
      };
    },
  };
  const credential = new ClientSecretCredential('tenant', 'client', 'secret', { authorityHost: 'https://login.test', disableInstanceDiscovery: true, httpClient });
  return { credential, posts: () => posts };
}

async function cacheHits(endpoint: TokenEndpoint) {
  progress('1/5 cache-hit cost');
  const sizes = QUICK ? [1, 100] : [1, 100, 1_000, 10_000];
  const rows: (string | number)[][] = [];
  const scopesOf = (n: number) => Array.from({ length: n }, (_, i) => `api://dev-gcp.team.app-${i}/.default`);
  for (const size of sizes) {
    const scopes = scopesOf(size);
    const ours = clientCredentials({ tokenEndpoint: endpoint.url, clientId: 'c', clientSecret: 's' });
    for (const scope of scopes) await ours.getToken(scope);
    const theirs = size === 1 || size === 1_000 ? msal(endpoint) : undefined; // msal at 10,000 would take minutes to warm and measure
    if (theirs) for (const scope of scopes) await theirs.get(scope);
    const azure = size <= 100 ? identity() : undefined;
    if (azure) for (const scope of scopes) await azure.credential.getToken(scope);
    const provider = azure ? getBearerTokenProvider(azure.credential, scopes[0]!) : undefined;
    if (provider) await provider();
    // mitata times each call (batched where calls are short) and gives its median; the variants
    // take turns round by round, and the table shows the median of the rounds' medians.
    let next = 0;
    const cycleThrough = () => ours.getToken(scopes[(next = (next + 1) % size)]!);
    const hot: number[] = [];
    const cycling: number[] = [];
    const theirRounds: number[] = [];
    const identityRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (provider) identityRounds.push(await p50(() => provider(), MICRO_TIME));
      hot.push(await p50(() => ours.getToken(scopes[0]!), MICRO_TIME));
      cycling.push(await p50(cycleThrough, MICRO_TIME));
      if (theirs) theirRounds.push(await p50(() => theirs.get(scopes[0]!), size >= 1_000 ? MICRO_TIME / 4 : MICRO_TIME));
    }
    const o = median(hot);
    const c = median(cycling);
    const t = theirs ? median(theirRounds) : undefined;
    const id = provider ? fmt(median(identityRounds)) : 'not measured (the credential is warmed per scope; 100 shows the trend)';
    rows.push([
      fmt(size),
      fmt(o),
      fmt(c),
      id,
      t === undefined ? (size > 1_000 ? 'n/a (warming and scanning 10,000 msal entries takes minutes)' : 'not measured at this size') : fmt(t),
      t === undefined ? '' : `${fmt(t / o)}x`,
    ]);
  }
  table(
    '1. Cache-hit cost (ns per getToken of one scope while N are cached, median of rounds)',
    ['cached scopes (N)', 'axios-m2m', 'axios-m2m, cycling through all N', '@azure/identity 4.12 getBearerTokenProvider', '@azure/msal-node 7.2.3', 'msal / ours'],
    rows,
  );
}

async function overhead(api: Api, endpoint: TokenEndpoint) {
  progress('2/5 per-request overhead');
  // Many short rounds, the variants in a new order each round, and the overhead taken per round
  // against the floor's run in that same round: this machine's noise comes in bursts of seconds,
  // which hit a round's runs alike and cancel in its ratio.
  const requests = QUICK ? 200 : 1_000;
  const rounds = QUICK ? 2 : 51;
  const concurrency = 8;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const make = (): AxiosInstance => axios.create({ baseURL: api.url, httpAgent: agent });
  const floor = make();
  floor.defaults.headers.common.Authorization = 'Bearer static-token';
  const ours = make();
  const source = clientCredentials({ tokenEndpoint: endpoint.url, clientId: 'c', clientSecret: 's' });
  attachToken(ours, { source, scope: 'api://x/.default' });
  await ours.get('/'); // warms the cache: one token request, then every request is a cache hit
  const asyncFloor = make();
  asyncFloor.interceptors.request.use(async (config) => (config.headers.set('Authorization', 'Bearer static-token'), config));
  const refresh = make();
  let cached = 'static-token';
  refresh.interceptors.request.use((config) => (config.headers.set('Authorization', `Bearer ${cached}`), config));
  createAuthRefreshInterceptor(refresh, async () => void (cached = 'static-token'));
  const handWritten = make(); // what the package does per request, minus its checks, retry and redirect guard
  handWritten.interceptors.request.use(async (config) => (config.headers.set('Authorization', `Bearer ${(await source.getToken('api://x/.default')).token}`), config));
  const variants: [string, AxiosInstance][] = [
    ['static header (floor)', floor],
    ['an async interceptor setting a static header', asyncFloor],
    ['an async interceptor awaiting the same cache', handWritten],
    ['axios-m2m, warm cache', ours],
    ['axios-auth-refresh 5, cached token', refresh],
  ];
  /** Seconds per request, wall clock, for `requests` requests at `concurrency`. */
  const run = async (instance: AxiosInstance) => {
    let next = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < requests) await instance.get('/things');
      }),
    );
    return Number(process.hrtime.bigint() - start) / 1e9 / requests;
  };
  for (const [, instance] of variants) await run(instance); // warm-up
  const times = variants.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (let v = 0; v < variants.length; v++) {
      const k = (v + round) % variants.length;
      times[k]!.push(await run(variants[k]![1]));
    }
  }
  const ratios = (v: number) => times[v]!.map((t, round) => t / times[0]![round]! - 1);
  const percent = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x * 100, 1)}%`;
  table(
    `2. Per-request overhead (axios GET to a keep-alive loopback server, concurrency ${concurrency}, ${fmt(requests)} requests a round, ${rounds} rounds)`,
    ['variant', 'requests/s (median)', 'time per request vs floor (median of rounds)', 'middle half of rounds'],
    variants.map(([name], v) => {
      const sorted = ratios(v).sort((a, b) => a - b);
      const quartile = (q: number) => sorted[Math.floor((sorted.length - 1) * q)]!;
      return [name, fmt(1 / median(times[v]!)), v === 0 ? '' : percent(median(sorted)), v === 0 ? '' : `${percent(quartile(0.25))} to ${percent(quartile(0.75))}`];
    }),
  );

  // What the package's own code adds to each request: its request handler on a warm cache, timed
  // alone, against a handler that sets a static header, as a share of the floor's time per request.
  const { request } = tokenInterceptor({ source, scope: 'api://x/.default' });
  const config = () => ({ baseURL: api.url, url: '/things', method: 'get', headers: new AxiosHeaders() }) as InternalAxiosRequestConfig;
  const staticHandler = async (c: InternalAxiosRequestConfig) => (c.headers.set('Authorization', 'Bearer static-token'), c);
  const handlerRounds = [[], []] as number[][];
  for (let round = 0; round < ROUNDS; round++) {
    handlerRounds[0]!.push(await p50(() => staticHandler(config()), MICRO_TIME));
    handlerRounds[1]!.push(await p50(() => request(config()), MICRO_TIME));
  }
  const perRequestNs = median(times[0]!) * 1e9;
  const [staticNs, oursNs] = handlerRounds.map(median) as [number, number];
  table(
    "2b. The request handler alone (ns per call, warm cache, median of rounds; share of the floor's time per request)",
    ['handler', 'ns per call', 'share of a request'],
    [
      ['sets a static header (async)', fmt(staticNs), `${fmt((staticNs / perRequestNs) * 100, 2)}%`],
      ['axios-m2m: scope, cached token, header, redirect guard', fmt(oursNs), `${fmt((oursNs / perRequestNs) * 100, 2)}%`],
    ],
  );
  agent.destroy();
}

async function herd(endpoint: TokenEndpoint) {
  progress('3/5 cold-start herd');
  const scopes = Array.from({ length: 10 }, (_, i) => `api://dev-gcp.team.herd-${i}/.default`);
  const n = QUICK ? 100 : 1_000;
  endpoint.reset();
  const ours = clientCredentials({ tokenEndpoint: endpoint.url, clientId: 'c', clientSecret: 's' });
  await Promise.all(Array.from({ length: n }, (_, i) => ours.getToken(scopes[i % 10]!)));
  const oursCount = endpoint.count();
  endpoint.reset();
  const theirs = msal(endpoint);
  await Promise.all(Array.from({ length: n }, (_, i) => theirs.get(scopes[i % 10]!)));
  const theirCount = endpoint.count();
  const azure = identity();
  await Promise.all(Array.from({ length: n }, (_, i) => azure.credential.getToken(scopes[i % 10]!)));
  table(
    `3. Cold-start herd (${fmt(n)} concurrent calls over 10 scopes, empty cache)`,
    ['library', 'token endpoint requests'],
    [
      ['axios-m2m', oursCount],
      ['@azure/msal-node 7.2.3', theirCount],
      ['@azure/identity 4.12 credential.getToken', azure.posts()],
    ],
  );
}

async function storm(api: Api) {
  progress('4/5 401 storm');
  const n = QUICK ? 100 : 1_000;
  // axios-m2m
  let ourFetches = 0;
  const ours = axios.create({ baseURL: api.url });
  attachToken(ours, { source: withCache(async () => ({ token: `m2m-${++ourFetches}`, expiresAt: Date.now() + 3_600_000 })), scope: 'api://x/.default' });
  await ours.get('/warm');
  api.revoked.add('m2m-1');
  const ourResults = await Promise.allSettled(Array.from({ length: n }, () => ours.get('/things')));
  // axios-auth-refresh with its default options
  let theirRefreshes = 0;
  let token = 'aar-0';
  const theirs = axios.create({ baseURL: api.url });
  theirs.interceptors.request.use((config) => (config.headers.set('Authorization', `Bearer ${token}`), config));
  createAuthRefreshInterceptor(theirs, async () => {
    theirRefreshes += 1;
    token = `aar-${theirRefreshes}`;
  });
  await theirs.get('/warm');
  api.revoked.add('aar-0');
  const theirResults = await Promise.allSettled(Array.from({ length: n }, () => theirs.get('/things')));
  const ok = (results: PromiseSettledResult<unknown>[]) => results.filter((r) => r.status === 'fulfilled').length;
  table(
    `4. 401 storm (${fmt(n)} concurrent requests whose token the API has just revoked)`,
    ['library', 'token refreshes', 'successes'],
    [
      ['axios-m2m', ourFetches - 1, fmt(ok(ourResults))],
      ['axios-auth-refresh 5 (defaults)', theirRefreshes, fmt(ok(theirResults))],
    ],
  );
}

function memory() {
  progress('5/5 memory (child process with --expose-gc)');
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(new URL('./memory.ts', import.meta.url))], {
    env: { ...process.env },
    encoding: 'utf8',
  });
  const { perScope, size10k, size100k } = JSON.parse(out) as { perScope: number; size10k: number; size100k: number };
  table(
    '5. Memory',
    ['figure', 'value'],
    [
      ['heap per cached scope (10,000 scopes)', `${fmt(perScope)} bytes`],
      ['entries after 10,000 scopes', fmt(size10k)],
      ['entries after 100,000 scopes (default maxEntries 10,000)', fmt(size100k)],
    ],
  );
}

/**
 * The sections in bench/sections/, in file-name order: each exports its `heading` (the table's
 * title starts with it; spec/package/bench.spec.ts checks that every heading is printed) and a default
 * `run()` that prints its table(s). BENCH_QUICK must keep a section to a few seconds.
 */
async function sections() {
  const dir = new URL('./sections/', import.meta.url);
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.ts'))
        .sort()
    : [];
  for (const file of files) {
    if (!wanted(String(Number.parseInt(file, 10)))) continue;
    const section = (await import(new URL(file, dir).href)) as { heading: string; default: () => Promise<void> };
    progress(`${section.heading} (${file})`);
    await section.default();
  }
}

/**
 * BENCH_ONLY=1,3,9 runs only those tables (by their number; 5 is memory), to re-check the figures
 * a change can move without the whole run.
 */
const only = process.env.BENCH_ONLY?.split(',').map((n) => n.trim());
function wanted(table: string): boolean {
  return only === undefined || only.includes(table);
}

console.log(
  `## axios-m2m benchmarks\n\n${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}${QUICK ? ' (BENCH_QUICK: tiny counts, figures not meaningful)' : ''}`,
);
const endpoint = await startTokenEndpoint((n, scope) => `tok-${n}-${Buffer.from(scope ?? '').toString('base64url')}`);
const api = await startApi();
try {
  if (wanted('1')) await cacheHits(endpoint);
  if (wanted('2')) await overhead(api, endpoint);
  if (wanted('3')) await herd(endpoint);
  if (wanted('4')) await storm(api);
  if (wanted('5')) memory();
  await sections();
} finally {
  await close(endpoint.server);
  await close(api.server);
}
progress('done');
