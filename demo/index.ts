// npm run demo: the package's main job, on loopback, with nothing but `npm ci`. It starts the
// Texas-faithful server and a protected API (which validates callers with requireToken(), through
// Texas's introspection), attaches axios-m2m to an axios instance, and shows what happens:
// caching, the 401 refresh with skip_cache, and a burst sharing one fetch.
import axios from 'axios';
import { attachToken, texas } from '../lib/index.js';
import { startTexasServer } from '../lib/testing/texas-server.js';
import { startProtectedApi } from './protected-api.js';

const SCOPE = 'api://dev-gcp.team.other-api/.default';

// A little upstream latency, so that the burst below really overlaps a fetch in flight. The sidecar
// introspects for the API the demo calls (tokens for its scope are valid for it, and no others).
const sidecar = await startTexasServer({ upstreamDelay: 50, app: 'dev-gcp:team:other-api' });
const api = await startProtectedApi(sidecar);
const apiUrl = api.url;

const tokenRequests = () => sidecar.requests.filter((r) => r.path === '/api/v1/token');
const statuses: number[] = [];
const client = axios.create({ baseURL: apiUrl });
client.interceptors.response.use(
  (response) => (statuses.push(response.status), response),
  (error: unknown) => {
    if (axios.isAxiosError(error) && error.response) statuses.push(error.response.status);
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

// 4. A burst on a scope nobody has asked for yet: the same API in Texas's short form of a scope.
const burstStart = tokenRequests().length;
const burst = await Promise.all(Array.from({ length: 50 }, () => client.get('/things', { token: { scope: 'dev-gcp:team:other-api' } })));
console.log(
  `4. 50 concurrent requests on a new scope: ${burst.filter((r) => r.status === 200).length} answered 200, ` +
    `sharing ${tokenRequests().length - burstStart} token request`,
);

console.log(`\nIn all: ${api.requests} requests reached the API, and Texas got ${tokenRequests().length} token requests.`);

// 5. The API's side: requireToken() asked Texas once per token it had not seen (or had forgotten),
// and refuses callers without a valid token for it.
const introspections = sidecar.requests.filter((r) => r.path === '/api/v1/introspect').length;
const anonymous = await axios.get(`${apiUrl}/things`, { validateStatus: () => true });
const otherApp = await axios.get(`${apiUrl}/things`, {
  validateStatus: () => true,
  headers: { authorization: `Bearer ${await sidecar.mintUserToken('alice', { audience: 'api://dev-gcp.team.someone-else' })}` },
});
console.log(
  `5. The API validated callers with ${introspections} introspection requests; without a token it answers ` +
    `${anonymous.status} (${anonymous.headers['www-authenticate']}), with a token for another app ` +
    `${otherApp.status} (${otherApp.headers['www-authenticate']})`,
);
await api.close();
await sidecar.close();
