import { answer, audienceFor, required, type TexasContext } from './texas-request.js';

// `POST /api/v1/token`: a machine token for a target, from Texas's cache or minted upstream. One
// cache entry per target, provider, resource and authorization details (docs/protocols/texas.md,
// "Machine token"); only Entra ID and Maskinporten issue machine tokens.

const TOKEN_PROVIDERS = ['entra_id', 'azuread', 'maskinporten'];

export async function tokenEndpoint(context: TexasContext, body: Record<string, unknown>): Promise<unknown> {
  const { provider, target } = required(context, body, TOKEN_PROVIDERS, 'token requests');
  const key = JSON.stringify([target, provider, body.resource ?? null, body.authorization_details ?? null]);
  const claims = () => Promise.resolve({ aud: audienceFor(provider, target, 'token'), azp: 'app', sub: 'app', idp: provider });
  return answer(context, await context.cached(key, body.skip_cache === true, provider, claims));
}
