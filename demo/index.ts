// npm run demo: the package's main job, on loopback, with nothing but `npm ci`. It starts the
// Texas-faithful server and a protected API, attaches axios-m2m to an axios instance, and shows
// what happens: caching, the 401 refresh with skip_cache, and a burst sharing one fetch.
import axios from 'axios';
import { attachToken, texas } from '../lib/index.js';
import { startTexasServer } from '../lib/testing/texas-server.js';
import { startProtectedApi } from './protected-api.js';

const SCOPE = 'api://dev-gcp.team.other-api/.default';

// A little upstream latency, so that the burst below really overlaps a fetch in flight.
const sidecar = await startTexasServer({ upstreamDelayMs: 50 });
const api = await startProtectedApi(sidecar);
const apiUrl = api.url;

const tokenRequests = () => sidecar.requests.filter((r) => r.path === '/api/v1/token');
const statuses: number[] = [];
const client = axios.create({ baseURL: apiUrl });
client.interceptors.response.use(
  (response) => (statuses.push(response.status), response),
  (error: { response?: { status: number } }) => {
    if (error.response) statuses.push(error.response.status);
    return Promise.reject(error);
  },
);
attachToken(client, { source: texas({ endpoint: sidecar.tokenEndpoint }), scope: SCOPE });

console.log(`Texas-faithful sidecar on ${sidecar.tokenEndpoint}, protected API on ${apiUrl}\n`);

await client.get('/things');
console.log(`1. First request: 200, after fetching a token from Texas (token requests: ${tokenRequests().length})`);

for (let i = 0; i < 100; i++) await client.get('/things');
console.log(`2. 100 more requests: all 200, the cached token reused (token requests: ${tokenRequests().length})`);

// 3. The API stops accepting the token (as after a change of its access policy).
api.revokeLastToken();
statuses.length = 0;
const before = tokenRequests().length;
const response = await client.get('/things');
const refresh = tokenRequests().slice(before);
console.log(
  `3. Token revoked by the API: the request got ${statuses.join(', then ')}; the package refreshed once ` +
    `(skip_cache: ${refresh.map((r) => String(r.body.skip_cache)).join(', ')}) and the retry answered ${response.status}`,
);

// 4. A burst on a scope nobody has asked for yet.
const burstStart = tokenRequests().length;
const burst = await Promise.all(
  Array.from({ length: 50 }, () => client.get('/things', { token: { scope: 'api://dev-gcp.team.burst/.default' } })),
);
console.log(
  `4. 50 concurrent requests on a new scope: ${burst.filter((r) => r.status === 200).length} answered 200, ` +
    `sharing ${tokenRequests().length - burstStart} token request`,
);

console.log(`\nIn all: ${api.requests} requests reached the API, and Texas got ${tokenRequests().length} token requests.`);
await api.close();
await sidecar.close();
