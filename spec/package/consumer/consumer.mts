// Type-checked against the packed package's declarations (spec/package/pack.spec.ts): the public
// surface and the `token` request option must type-check without casts.
import axios from 'axios';
import { attachToken, clientCredentials, fromEnv, isTokenError, texas, tokenInterceptor, withCache, TokenError, type AccessToken, type TokenSource } from 'axios-m2m';
import { startTexasServer, type TexasServer, type TexasServerRequest } from 'axios-m2m/testing';

const api = axios.create({ baseURL: 'http://other-api.team', token: { scope: 'api://dev-gcp.team.other-api/.default' } });
const detach: () => void = attachToken(api, { source: texas({ endpoint: 'http://127.0.0.1:7164/api/v1/token' }), scope: (config) => config.url });
await api.get('/x', { token: { scope: 'api://dev-gcp.team.x/.default' } });
await api.get('/health', { token: false });
detach();

const custom: TokenSource = withCache(async (scope: string): Promise<AccessToken> => ({ token: scope, expiresAt: Date.now() + 1000 }));
const { request, responseError } = tokenInterceptor({ source: custom, scope: 'api://a/.default', retryOn: [401, 403] });
api.interceptors.request.use(request);
api.interceptors.response.use(undefined, responseError);
void clientCredentials;
void fromEnv;

try {
  await api.get('/y');
} catch (error) {
  if (isTokenError(error)) {
    switch (error.code) {
      case 'throttled':
        console.log(error.retryAfter?.toFixed());
        break;
      case 'invalid_client':
        console.log(error.errorCodes, error.traceId, error.status);
        break;
    }
  }
  if (error instanceof TokenError) console.log(error.endpoint);
}

// Options built from what may be unset, under exactOptionalPropertyTypes (this project's tsconfig):
// an option given as undefined is an option left out, so each of these compiles.
// What a config loader hands out (process.env's shape; this project has no Node types).
declare const env: Record<string, string | undefined>;
const fromConfig = texas({ endpoint: env.NAIS_TOKEN_ENDPOINT, resource: env.RESOURCE, timeout: undefined, proxy: undefined, expiryMargin: undefined });
void clientCredentials({ clientId: env.AZURE_APP_CLIENT_ID, clientSecret: env.AZURE_APP_CLIENT_SECRET, tokenEndpoint: undefined, certificate: undefined });
void fromEnv({ env: { NAIS_TOKEN_ENDPOINT: env.NAIS_TOKEN_ENDPOINT }, retries: undefined });
attachToken(axios.create({ baseURL: 'http://api.team' }), { source: fromConfig, scope: env.SCOPE, origins: undefined, retryOn: undefined })();
await api.get('/z', { token: { scope: env.SCOPE, user: undefined } });
await fromConfig.getToken('api://a/.default', { forceRefresh: undefined, signal: undefined, user: env.USER_TOKEN });
void withCache(async (scope: string): Promise<AccessToken> => ({ token: scope, expiresAt: 0, refreshAt: undefined }), { maxEntries: undefined });
void new TokenError('network', 'down', { status: undefined, endpoint: env.NAIS_TOKEN_ENDPOINT });

// axios-m2m/testing: the Texas-faithful server for users' own integration tests.
const sidecar: TexasServer = await startTexasServer({ lifetime: 60_000, upstreamDelay: 5, enabled: ['entra_id'], now: undefined, app: env.APP });
const claims: Record<string, unknown> | null = await sidecar.verify(await sidecar.mintUserToken('alice', { expiresIn: 60_000 }));
const seen: TexasServerRequest[] = sidecar.requests;
console.log(claims?.sub, seen.length, sidecar.mints);
await sidecar.close();
