import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

/** What a test gets from {@link startOidcServer}. */
export type OidcServer = Awaited<ReturnType<typeof startOidcServer>>;

const TENANT_PATH = '/tenant';

/**
 * panva's oidc-provider as an Entra-like authorization server on loopback: issuer
 * `http://127.0.0.1:<port>/tenant/v2.0`, token endpoint `/tenant/oauth2/v2.0/token`, the client
 * credentials grant with Entra's `scope=api://<app>/.default` (no `resource` parameter), JWT access
 * tokens whose `aud` is the scope's resource, and real OAuth error answers. One client
 * authenticates with a secret (client_secret_post), another with private_key_jwt.
 */
export async function startOidcServer({ resources, tokenLifetime = 3600 }: { resources: string[]; tokenLifetime?: number }) {
  // Bound first: the issuer (and so every token's `iss`) must carry the real port.
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${origin}${TENANT_PATH}/v2.0`;

  const client = await generateKeyPair('RS256', { extractable: true });
  const privateJwk: JWK = { ...(await exportJWK(client.privateKey)), kid: 'test-key', alg: 'RS256' };
  const publicJwk: JWK = { ...(await exportJWK(client.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const signing = await generateKeyPair('RS256', { extractable: true });
  const signingJwk: JWK = { ...(await exportJWK(signing.privateKey)), kid: 'issuer-key', alg: 'RS256', use: 'sig' };

  const state = { lifetime: tokenLifetime, tokenRequests: 0 };
  // Resources may be given with or without their `/.default` suffix.
  const known = new Set(resources.map((r) => r.replace(/\/\.default$/, '')));

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'secret-client',
        client_secret: 'a-client-secret-value',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: 'jwt-client',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks: { keys: [publicJwk] },
      },
    ],
    // The provider is mounted at the origin's root (see below), so routes are absolute paths.
    routes: { token: `${TENANT_PATH}/oauth2/v2.0/token`, jwks: `${TENANT_PATH}/discovery/v2.0/keys` },
    jwks: { keys: [signingJwk] },
    ttl: { ClientCredentials: () => state.lifetime },
    // Entra ID v2 tokens name the calling client in `azp`; oidc-provider only sets `client_id`.
    extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) => ({ azp: token.clientId }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Entra ID takes no `resource` parameter: the resource is the scope's `/.default` prefix.
        defaultResource: (ctx: { oidc: { params?: Record<string, unknown> } }) => {
          const scope = ctx.oidc.params?.scope;
          return typeof scope === 'string' ? scope.replace(/\/\.default$/, '') : '';
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (!known.has(resource)) throw new errors.InvalidTarget();
          return {
            scope: `${resource}/.default`,
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: state.lifetime,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  // Counts every token request that reached the grant (success or failure), not only issued ones.
  provider.on('grant.success', () => (state.tokenRequests += 1));
  provider.on('grant.error', () => (state.tokenRequests += 1));
  server.on('request', provider.callback());

  return {
    issuer,
    tokenEndpoint: `${origin}${TENANT_PATH}/oauth2/v2.0/token`,
    jwksUri: `${origin}${TENANT_PATH}/discovery/v2.0/keys`,
    clientId: 'secret-client',
    clientSecret: 'a-client-secret-value',
    jwtClient: { clientId: 'jwt-client', privateJwk },
    get tokenRequests() {
      return state.tokenRequests;
    },
    setTokenLifetime: (seconds: number) => void (state.lifetime = seconds),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
