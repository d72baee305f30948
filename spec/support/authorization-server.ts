import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

/**
 * panva's oidc-provider as an Entra-like authorization server on loopback, doing the client
 * credentials grant as Entra ID does: `scope=api://<app>/.default` at `/<tenant>/oauth2/v2.0/token`,
 * JWT access tokens whose `aud` is the scope's resource, real OAuth error answers. One client
 * authenticates with a secret, another with private_key_jwt.
 */
export async function startAuthorizationServer({ resources, tokenLifetime = 3600 }: { resources: string[]; tokenLifetime?: number }) {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`; // the real port, bound first
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid: 'jwt-client-key', alg: 'RS256' };
  const state = { lifetime: tokenLifetime, tokenRequests: 0 };
  const known = new Set(resources.map((scope) => scope.replace(/\/\.default$/, '')));

  const provider = new Provider(issuer, {
    clients: [
      { client_id: 'secret-client', client_secret: 'a-client-secret-value', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_post' },
      {
        client_id: 'jwt-client',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'jwt-client-key', alg: 'RS256', use: 'sig' }] },
      },
    ],
    routes: { token: '/tenant/oauth2/v2.0/token', jwks: '/tenant/discovery/v2.0/keys' },
    ttl: { ClientCredentials: () => state.lifetime },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Entra ID takes no `resource` parameter: the resource is the scope's `/.default` prefix.
        defaultResource: (ctx: { oidc: { params?: Record<string, unknown> } }) => String(ctx.oidc.params?.scope ?? '').replace(/\/\.default$/, ''),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (!known.has(resource)) throw new errors.InvalidTarget('the resource is not known in this tenant');
          return { scope: `${resource}/.default`, audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: state.lifetime, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    jwks: { keys: [{ ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), kid: 'signing', alg: 'RS256', use: 'sig' }] },
  });
  provider.on('grant.success', () => (state.tokenRequests += 1));
  server.on('request', provider.callback());

  return {
    issuer,
    tokenEndpoint: `${issuer}/tenant/oauth2/v2.0/token`,
    jwksUri: `${issuer}/tenant/discovery/v2.0/keys`,
    secretClient: { clientId: 'secret-client', clientSecret: 'a-client-secret-value' },
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
