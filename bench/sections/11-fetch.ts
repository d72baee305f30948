// The package's tokens through fetch (`axios-m2m/fetch`), beside the same through axios, against
// what a fetch user would otherwise write or pick: a hand-written wrapper that awaits the same
// cache and sets the header, and platformatic's undici-oidc-interceptor (undici 7's Agent, its
// fetch). Every variant calls one keep-alive loopback API; tokens come from one loopback token
// endpoint that issues JWT-shaped tokens (undici-oidc-interceptor reads their `exp`).
import axios from 'axios';
import { Agent as HttpAgent } from 'node:http';
import { createRequire } from 'node:module';
import { Agent as UndiciAgent, fetch as undiciFetch, type Dispatcher } from 'undici';
import { tokenFetch } from '../../lib/fetch/index.js';
import { attachToken, clientCredentials } from '../../lib/index.js';
import { close, fmt, median, progress, QUICK, startApi, startTokenEndpoint, table, type Api, type TokenEndpoint } from '../support.js';

export const heading = '11. fetch';

type OidcInterceptor = (options: Record<string, unknown>) => Dispatcher.DispatcherComposeInterceptor;
const createOidcInterceptor = createRequire(import.meta.url)('undici-oidc-interceptor') as OidcInterceptor;

const SCOPE = 'api://bench/.default';

function jwt(n: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k', typ: 'JWT' })}.${part({ sub: `bench-${n}`, exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;
}

export default async function run(): Promise<void> {
  // JWT-shaped tokens: undici-oidc-interceptor reads their `exp`.
  const endpoint = await startTokenEndpoint(jwt, 5);
  const api = await startApi();
  const dispatchers: UndiciAgent[] = [];
  try {
    await overhead(endpoint, api, dispatchers);
    await storms(endpoint, api, dispatchers);
  } finally {
    await Promise.all(dispatchers.map((d) => d.close()));
    await close(endpoint.server);
    await close(api.server);
  }
}

function oidcDispatcher(endpoint: TokenEndpoint, api: Api, dispatchers: UndiciAgent[]) {
  const agent = new UndiciAgent({ connections: 8 });
  dispatchers.push(agent);
  return agent.compose(createOidcInterceptor({ idpTokenUrl: endpoint.url, clientId: 'c', clientSecret: 's', scope: SCOPE, urls: [api.url] }));
}

async function overhead(endpoint: TokenEndpoint, api: Api, dispatchers: UndiciAgent[]) {
  progress('11a fetch per-request overhead');
  const requests = QUICK ? 200 : 1_000;
  const rounds = QUICK ? 2 : 31;
  const concurrency = 8;
  const source = clientCredentials({ tokenEndpoint: endpoint.url, clientId: 'c', clientSecret: 's' });
  const target = `${api.url}/things`;
  const drain = async (response: Response) => void (await response.arrayBuffer());

  const undiciPlain = new UndiciAgent({ connections: concurrency });
  dispatchers.push(undiciPlain);
  const oidc = oidcDispatcher(endpoint, api, dispatchers);
  const ours = tokenFetch({ source, scope: SCOPE, origins: [api.url] });
  const handWritten = async (input: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${(await source.getToken(SCOPE)).token}`);
    return fetch(input, { ...init, headers });
  };
  const axiosAgent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const axiosFloor = axios.create({ baseURL: api.url, httpAgent: axiosAgent, headers: { Authorization: `Bearer ${jwt(0)}` } });
  const axiosOurs = axios.create({ baseURL: api.url, httpAgent: axiosAgent });
  attachToken(axiosOurs, { source, scope: SCOPE });

  // [name, one request, index of the floor it is compared with]
  const variants: [string, () => Promise<unknown>, number][] = [
    ['global fetch, static header (fetch floor)', () => fetch(target, { headers: { Authorization: `Bearer ${jwt(0)}` } }).then(drain), 0],
    ['global fetch, hand-written wrapper awaiting the same cache', () => handWritten(target).then(drain), 0],
    ['axios-m2m tokenFetch, warm cache', () => ours(target).then(drain), 0],
    [
      'undici 7 fetch, static header (undici floor)',
      () => undiciFetch(target, { dispatcher: undiciPlain, headers: { Authorization: `Bearer ${jwt(0)}` } }).then((r) => r.arrayBuffer()),
      3,
    ],
    ['undici-oidc-interceptor 0.6, warm token', () => undiciFetch(target, { dispatcher: oidc }).then((r) => r.arrayBuffer()), 3],
    ['axios, static header (axios floor)', () => axiosFloor.get('/things'), 5],
    ['axios-m2m attachToken, warm cache', () => axiosOurs.get('/things'), 5],
  ];
  const runOnce = async (one: () => Promise<unknown>) => {
    let next = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < requests) await one();
      }),
    );
    return Number(process.hrtime.bigint() - start) / 1e9 / requests;
  };
  for (const [, one] of variants) await runOnce(one); // warm-up: connections, caches, JIT
  const times = variants.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (let v = 0; v < variants.length; v++) {
      const k = (v + round) % variants.length;
      times[k]!.push(await runOnce(variants[k]![1]));
    }
  }
  const percent = (x: number) => `${x >= 0 ? '+' : ''}${fmt(x * 100, 1)}%`;
  table(
    `11. fetch: per-request overhead beside axios (GET to a keep-alive loopback server, concurrency ${concurrency}, ${fmt(requests)} requests a round, ${rounds} rounds)`,
    ['variant', 'requests/s (median)', 'time per request vs its floor (median of rounds)', 'middle half of rounds'],
    variants.map(([name, , floor], v) => {
      const sorted = times[v]!.map((t, round) => t / times[floor]![round]! - 1).sort((a, b) => a - b);
      const quartile = (q: number) => sorted[Math.floor((sorted.length - 1) * q)]!;
      const isFloor = floor === v;
      return [name, fmt(1 / median(times[v]!)), isFloor ? '' : percent(median(sorted)), isFloor ? '' : `${percent(quartile(0.25))} to ${percent(quartile(0.75))}`];
    }),
  );
  axiosAgent.destroy();
}

async function storms(endpoint: TokenEndpoint, api: Api, dispatchers: UndiciAgent[]) {
  progress('11b fetch cold herd and 401 storm');
  const n = QUICK ? 50 : 1_000;
  const target = `${api.url}/storm`;
  const status = async (response: Response | Promise<Response>) => {
    const r = await response;
    await r.arrayBuffer();
    return r.status;
  };
  const rows: (string | number)[][] = [];

  // Cold herd: n concurrent first requests, nothing cached.
  endpoint.reset();
  const oursCold = tokenFetch({ source: clientCredentials({ tokenEndpoint: endpoint.url, clientId: 'c', clientSecret: 's' }), scope: SCOPE, origins: [api.url] });
  const oursHerd = await Promise.all(Array.from({ length: n }, () => status(oursCold(target))));
  const oursHerdRequests = endpoint.count();
  endpoint.reset();
  const oidcCold = oidcDispatcher(endpoint, api, dispatchers);
  const oidcHerd = await Promise.all(
    Array.from({ length: n }, () =>
      undiciFetch(target, { dispatcher: oidcCold })
        .then((r) => status(r as unknown as Response))
        .catch(() => 0),
    ),
  );
  const oidcHerdRequests = endpoint.count();

  // 401 storm: the API revokes the token every client holds; n concurrent requests follow.
  const ours = tokenFetch({ source: clientCredentials({ tokenEndpoint: endpoint.url, clientId: 'c', clientSecret: 's' }), scope: SCOPE, origins: [api.url] });
  await status(ours(target));
  const oidc = oidcDispatcher(endpoint, api, dispatchers);
  await undiciFetch(target, { dispatcher: oidc }).then((r) => r.arrayBuffer());
  for (const token of endpoint.issued) api.revoked.add(token); // every token either client holds
  endpoint.reset();
  const oursStorm = await Promise.all(Array.from({ length: n }, () => status(ours(target)).catch(() => 0)));
  const oursRefreshes = endpoint.count();
  endpoint.reset();
  const oidcStorm = await Promise.all(
    Array.from({ length: n }, () =>
      undiciFetch(target, { dispatcher: oidc })
        .then((r) => status(r as unknown as Response))
        .catch(() => 0),
    ),
  );
  const oidcRefreshes = endpoint.count();

  const ok = (statuses: number[]) => statuses.filter((s) => s === 200).length;
  rows.push(['axios-m2m tokenFetch', oursHerdRequests, `${fmt(ok(oursHerd))}/${fmt(n)}`, oursRefreshes, `${fmt(ok(oursStorm))}/${fmt(n)}`]);
  rows.push(['undici-oidc-interceptor 0.6', oidcHerdRequests, `${fmt(ok(oidcHerd))}/${fmt(n)}`, oidcRefreshes, `${fmt(ok(oidcStorm))}/${fmt(n)}`]);
  table(
    `11b. fetch: cold herd and 401 storm (${fmt(n)} concurrent requests)`,
    ['library', 'herd: token requests', 'herd: successes', 'storm: token refreshes', 'storm: successes'],
    rows,
  );
}
