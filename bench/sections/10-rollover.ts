// Tail latency at token rollover: a steady request rate through several token lifetimes, per way
// of getting tokens, each against its own loopback token endpoint that answers in 50-200 ms (as
// Entra ID does). The question: does a request ever wait for a token fetch once warm, and does the
// p99.9 move when a token is replaced?
//
// All variants run at once, their requests interleaved at a fixed rate (open loop: a slow answer
// never delays the next request), so this machine's noise hits all of them alike.
import { ClientSecretCredential, getBearerTokenProvider } from '@azure/identity';
import { createHttpHeaders, type PipelineRequest } from '@azure/core-rest-pipeline';
import axios, { type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';
import { createServer, Agent, type Server } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { attachToken, clientCredentials } from '../../lib/index.js';
import { close, fmt, listen, msalClient, progress, QUICK, table, url } from '../support.js';

export const heading = '10. Tail latency at token rollover';

/** The token lifetime the variants are meant to roll over at, in seconds. */
const LIFETIME = QUICK ? 3 : 6;
/** Load time after warm-up, in ms: several lifetimes. */
const DURATION = QUICK ? 2_500 : 30_000;
/** Requests per second, per variant. */
const RATE = QUICK ? 20 : 50;
/** msal-node with tokens of LIFETIME seconds fetches on every call: measured alone, briefly. */
const SHORT_MSAL_DURATION = QUICK ? 500 : 3_000;
const SCOPE = 'api://dev-gcp.team.other-api/.default';

/** A seeded generator, so that every endpoint answers its n-th request after the same delay. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A client-credentials token endpoint on loopback that answers after 50-200 ms with tokens of
 * `expiresIn` seconds, and notes when each answer left (for telling waits from cache hits).
 */
async function tokenEndpoint(expiresIn: number) {
  const delay = random(42);
  const answered: number[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    requests += 1;
    setTimeout(
      () => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            token_type: 'Bearer',
            expires_in: expiresIn,
            ext_expires_in: expiresIn,
            access_token: `rollover-${requests}-${Math.random().toString(36).slice(2)}`,
          }),
        );
        answered.push(performance.now());
      },
      50 + delay() * 150,
    );
  });
  await listen(server);
  return {
    url: `${url(server)}/tenant/oauth2/v2.0/token`,
    server,
    requests: () => requests,
    /** Whether an answer left between two instants. */
    answeredBetween: (from: number, to: number) => answered.some((t) => t >= from && t <= to),
  };
}
type Endpoint = Awaited<ReturnType<typeof tokenEndpoint>>;

/** msal-node against a loopback endpoint (msalClient in bench/support.ts). */
function msal(endpoint: Endpoint) {
  const app = msalClient(endpoint.url);
  return async () => (await app.acquireTokenByClientCredential({ scopes: [SCOPE] }))!.accessToken;
}

/** @azure/identity's getBearerTokenProvider over a ClientSecretCredential whose token requests go to a loopback endpoint. */
function identity(endpoint: Endpoint) {
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
      const response = await fetch(endpoint.url, {
        method: 'POST',
        body: typeof request.body === 'string' ? request.body : '',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      return { status: response.status, headers, request, bodyAsText: await response.text() };
    },
  };
  const credential = new ClientSecretCredential('tenant', 'client', 'secret', { authorityHost: 'https://login.test', disableInstanceDiscovery: true, httpClient });
  return getBearerTokenProvider(credential, SCOPE);
}

/** What many services write by hand: fetch when the cached token has expired, the caller waiting (one fetch shared). */
function fetchWhenExpired(endpoint: Endpoint) {
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<{ token: string; expiresAt: number }> | undefined;
  const fetchToken = async () => {
    const sent = Date.now();
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'client', client_secret: 'secret', scope: SCOPE });
    const { data } = await axios.post<{ access_token: string; expires_in: number }>(endpoint.url, body);
    return { token: data.access_token, expiresAt: sent + data.expires_in * 1000 };
  };
  return async () => {
    if (cached && Date.now() < cached.expiresAt) return cached.token;
    pending ??= fetchToken().finally(() => (pending = undefined));
    cached = await pending;
    return cached.token;
  };
}

interface Variant {
  name: string;
  /** The `expires_in` its endpoint answers with, and why. */
  lifetime: string;
  api: AxiosInstance;
  endpoint?: Endpoint;
  latencies: number[];
  waits: number;
  /** Each request's token step (from before the variant's interceptors to after them), in ms. */
  steps: number[];
  failures: number;
  requestsAtStart: number;
}

const T0 = Symbol('token step start');
type Stamped = InternalAxiosRequestConfig & { [T0]?: number };

/**
 * An axios instance whose token step (the interceptors `attach` registers) is timed: one
 * interceptor registered before them runs after them, one registered after runs first (axios runs
 * request interceptors in reverse order). A request waited for a token fetch when its endpoint
 * answered during that step: a cache hit takes microseconds and never lets a socket be written.
 */
function instance(
  api: string,
  variant: Omit<Variant, 'api' | 'latencies' | 'waits' | 'steps' | 'failures' | 'requestsAtStart'>,
  attach: (api: AxiosInstance) => void,
): Variant {
  const made = axios.create({ baseURL: api, httpAgent: new Agent({ keepAlive: true, maxSockets: 16 }) });
  const v: Variant = { ...variant, api: made, latencies: [], waits: 0, steps: [], failures: 0, requestsAtStart: 0 };
  made.interceptors.request.use((config: Stamped) => {
    const now = performance.now();
    if (config[T0] === undefined) return config;
    v.steps.push(now - config[T0]);
    if (v.endpoint?.answeredBetween(config[T0], now)) v.waits += 1;
    return config;
  });
  attach(made);
  made.interceptors.request.use((config: Stamped) => ((config[T0] = performance.now()), config));
  return v;
}

const withToken = (get: () => Promise<string>) => (api: AxiosInstance) =>
  void api.interceptors.request.use(async (config) => (config.headers.set('Authorization', `Bearer ${await get()}`), config));

/** Requests at a fixed rate per variant, interleaved, for `duration` ms; each latency is recorded. */
async function load(variants: Variant[], duration: number, rate: number) {
  // Warm-up: the first token, and code paths compiled (requests that are not measured).
  for (let i = 0; i < (QUICK ? 3 : 20); i++) await Promise.all(variants.map((v) => v.api.get('/things')));
  for (const v of variants) Object.assign(v, { requestsAtStart: v.endpoint?.requests() ?? 0, waits: 0, steps: [] });
  const step = 1000 / rate / variants.length;
  const start = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (let k = 0; start + k * step < start + duration; k++) {
    const wait = start + k * step - performance.now();
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const v = variants[k % variants.length]!;
    const sent = performance.now();
    inFlight.push(
      v.api.get('/things').then(
        () => v.latencies.push(performance.now() - sent),
        (error: Error) => ((v.failures += 1), progress(`${v.name}: ${error.message} at ${((performance.now() - start) / 1000).toFixed(1)} s`)),
      ),
    );
  }
  await Promise.all(inFlight);
}

/** The q-quantile of sorted values (nearest rank). */
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
const ms = (x: number) => fmt(x, x < 10 ? 2 : 1);

function row(v: Variant): (string | number)[] {
  const sorted = [...v.latencies].sort((a, b) => a - b);
  const steps = [...v.steps].sort((a, b) => a - b);
  return [
    v.name,
    v.lifetime,
    fmt(sorted.length),
    v.endpoint ? fmt(v.endpoint.requests() - v.requestsAtStart) : '-',
    v.endpoint ? fmt(v.waits) : '-',
    `${ms(quantile(steps, 0.999))} / ${ms(steps[steps.length - 1]!)}`,
    ms(quantile(sorted, 0.5)),
    ms(quantile(sorted, 0.99)),
    ms(quantile(sorted, 0.999)),
    ms(sorted[sorted.length - 1]!),
  ];
}

export default async function run(): Promise<void> {
  const api = createServer((_req, res) => res.end('{"ok":true}'));
  api.keepAliveTimeout = 60_000;
  await listen(api);
  const endpoints: Server[] = [api];
  const endpoint = async (expiresIn: number) => {
    const made = await tokenEndpoint(expiresIn);
    endpoints.push(made.server);
    return made;
  };
  try {
    const ours = await endpoint(LIFETIME);
    const hand = await endpoint(LIFETIME);
    // msal-node treats a token as expired 5 minutes (tokenRenewalOffsetSeconds, 300 s) before its
    // expiry, so a token of 5 minutes or less is never served from its cache: 300 + LIFETIME s
    // makes it fetch every LIFETIME seconds, as the others do.
    const msalEndpoint = await endpoint(300 + LIFETIME);
    // @azure/identity refreshes in the background from 2 minutes before expiry (and makes callers
    // wait within 1 s of it): 120 + LIFETIME s starts its refresh LIFETIME seconds into a token.
    const identityEndpoint = await endpoint(120 + LIFETIME);
    const variants = [
      instance(url(api), { name: 'static header (floor)', lifetime: '-' }, (a) => void (a.defaults.headers.common.Authorization = 'Bearer static')),
      instance(url(api), { name: 'axios-m2m (attachToken + clientCredentials)', lifetime: `${LIFETIME} s`, endpoint: ours }, (a) =>
        attachToken(a, { source: clientCredentials({ tokenEndpoint: ours.url, clientId: 'client', clientSecret: 'secret' }), scope: SCOPE }),
      ),
      instance(
        url(api),
        { name: 'hand-written "fetch when expired" interceptor (one shared fetch)', lifetime: `${LIFETIME} s`, endpoint: hand },
        withToken(fetchWhenExpired(hand)),
      ),
      instance(url(api), { name: '@azure/msal-node 7.2', lifetime: `300 + ${LIFETIME} s (usable ${LIFETIME} s)`, endpoint: msalEndpoint }, withToken(msal(msalEndpoint))),
      instance(
        url(api),
        { name: '@azure/identity 4.12 getBearerTokenProvider', lifetime: `120 + ${LIFETIME} s (refresh from ${LIFETIME} s)`, endpoint: identityEndpoint },
        withToken(identity(identityEndpoint)),
      ),
    ];
    progress(`${heading}: ${variants.length} variants at ${RATE} requests/s each for ${DURATION / 1000} s`);
    const loadBefore = loadavg()[0]!;
    await load(variants, DURATION, RATE);
    const loadAfter = loadavg()[0]!;

    // msal-node with the short token itself: nothing is cached, every request fetches (alone, briefly).
    const shortMsalEndpoint = await endpoint(LIFETIME);
    const shortMsal = instance(
      url(api),
      {
        name: `@azure/msal-node 7.2, the ${LIFETIME} s token itself (run alone for ${SHORT_MSAL_DURATION / 1000} s)`,
        lifetime: `${LIFETIME} s (never cached)`,
        endpoint: shortMsalEndpoint,
      },
      withToken(msal(shortMsalEndpoint)),
    );
    await load([shortMsal], SHORT_MSAL_DURATION, RATE);

    table(
      `${heading} (${RATE} requests/s per variant for ${DURATION / 1000} s after warm-up, all variants at once; token endpoints answer in 50-200 ms; latency in ms)`,
      [
        'variant',
        'token lifetime (expires_in)',
        'requests',
        'token requests',
        'requests that waited for a token fetch',
        'token step p99.9 / max',
        'p50',
        'p99',
        'p99.9',
        'max',
      ],
      [...variants, shortMsal].map((v) => row(v)),
    );
    const failed = [...variants, shortMsal].filter((v) => v.failures > 0);
    console.log(
      `\nThe token step is each request's time in the variant's own interceptors, from one timing interceptor before them to one after; a request waited for a token fetch when its variant's token endpoint answered during that step (a cache hit never yields to the event loop). p50 to max: the whole request. Warm-up requests are not counted. Load average (1 min) ${fmt(loadBefore, 1)} before, ${fmt(loadAfter, 1)} after, on ${cpus().length} cores: every figure shares the machine's stalls, so compare the rows, and the waits above all.${failed.length ? ` Failed requests: ${failed.map((v) => `${v.name} ${v.failures}`).join(', ')}.` : ''}`,
    );
  } finally {
    for (const server of endpoints) await close(server);
  }
}
