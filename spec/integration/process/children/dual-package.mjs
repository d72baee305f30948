// Loads the built package twice into one process, as an ESM app with a CommonJS dependency does:
// dist/index.js through import, dist/index.cjs through require. Prints one JSON line of findings.
// Plain JavaScript on purpose: it must run the builds, not the TypeScript sources.
import axios from 'axios';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';

const esm = await import('../../../../dist/index.js');
const cjs = createRequire(import.meta.url)('../../../../dist/index.cjs');
const SCOPE = 'api://dev-gcp.team.other-api/.default';

function listen(handler) {
  return new Promise((resolve) => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => handler(req, res, body));
    });
    server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${server.address().port}` }));
  });
}
const json = (res, status, value) => (res.writeHead(status, { 'content-type': 'application/json' }), res.end(JSON.stringify(value)));

const findings = { copies: esm.attachToken !== cjs.attachToken };

// 1. requireToken() from the CommonJS copy, onBehalfOf() from the ESM one.
const exchanges = [];
const texas = await listen((_req, res, body) => {
  const { user_token } = JSON.parse(body);
  exchanges.push(user_token);
  json(res, 200, { access_token: `obo-for-${user_token}`, expires_in: 3600, token_type: 'Bearer' });
});
const obo = esm.onBehalfOf({ endpoint: `${texas.origin}/api/v1/token/exchange` });
const validator = { identityProvider: 'entra_id', endpoint: 'spec', size: 0, clear() {}, validate: async () => ({ active: true, claims: { sub: 'user' } }) };
const guard = cjs.requireToken({ introspection: validator });
const inbound = await listen((req, res) => {
  guard(req, res, (error) => {
    if (error) return json(res, error.status ?? 500, { error: error.code });
    obo.getToken(SCOPE).then(
      (token) => json(res, 200, { token: token.token }),
      (failure) => json(res, 502, { error: failure.code }),
    );
  });
});
const answer = await axios.get(`${inbound.origin}/me`, { headers: { authorization: 'Bearer user-token-a' }, validateStatus: () => true });
findings.exchange = { status: answer.status, body: answer.data, exchanges };
// And the other way round: withUserToken() from ESM, onBehalfOf() from CommonJS.
const cjsObo = cjs.onBehalfOf({ endpoint: `${texas.origin}/api/v1/token/exchange` });
findings.reverse = await esm
  .withUserToken('user-token-b', () => cjsObo.getToken(SCOPE))
  .then(
    (t) => t.token,
    (e) => e.code,
  );

// 2. One instance, the token attached through both copies, against an API that always answers 401.
let hits = 0;
const api401 = await listen((_req, res) => {
  hits += 1;
  json(res, 401, { error: 'invalid_token' });
});
let forced = 0;
// A cached source: the same token until a refresh is forced.
const source = {
  async getToken(_scope, options) {
    if (options?.forceRefresh) forced += 1;
    return { token: `m2m-token-${forced}`, expiresAt: Date.now() + 3_600_000 };
  },
};
const instance = axios.create({ baseURL: api401.origin });
esm.attachToken(instance, { source, scope: SCOPE });
try {
  cjs.attachToken(instance, { source, scope: SCOPE });
  findings.secondAttach = 'attached';
} catch (error) {
  findings.secondAttach = `${error.name}: ${/already called/.test(error.message) ? 'already attached' : error.message}`;
}
// A CommonJS dependency that registers the handlers itself, as tokenInterceptor() allows.
const handlers = cjs.tokenInterceptor({ source, scope: SCOPE });
instance.interceptors.request.use(handlers.request);
instance.interceptors.response.use(undefined, handlers.responseError);
const status = await instance.get('/things').then(
  (r) => r.status,
  (e) => e.response?.status,
);
findings.retry = { status, hits, forced };

for (const { server } of [texas, inbound, api401]) {
  server.closeAllConnections();
  server.close();
}
console.log(JSON.stringify(findings));
