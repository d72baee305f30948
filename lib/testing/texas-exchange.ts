import { answer, audienceFor, required, TexasError, type TexasContext } from './texas-request.js';

// `POST /api/v1/token/exchange`: on behalf of a user, for Entra ID (OBO) and TokenX. The user's
// token is checked as the provider upstream checks it, and the answer cached per target,
// provider and user token, as Texas does (docs/protocols/texas.md, "Token exchange").

const EXCHANGE_PROVIDERS = ['entra_id', 'azuread', 'tokenx'];

/** Epoch seconds as Entra ID prints times in its messages. */
const isoSeconds = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function exchangeEndpoint(context: TexasContext, body: Record<string, unknown>): Promise<unknown> {
  const { provider, target } = required(context, body, EXCHANGE_PROVIDERS, 'token exchange', ['user_token']);
  const userToken = body.user_token as string;
  const key = JSON.stringify([target, provider, userToken]);
  return answer(
    context,
    await context.cached(key, body.skip_cache === true, provider, async () => {
      const aud = audienceFor(provider, target, 'exchange');
      const user = await userAssertion(context, provider, userToken);
      return { aud, azp: 'app', sub: user.sub as string, idp: provider };
    }),
  );
}

/**
 * The user token's claims if the exchange's identity provider takes it, else its refusal as the
 * provider words it. Entra ID takes only its own tokens, for this app, within their time range
 * (AADSTS50013 signature, AADSTS500133 time, AADSTS500131 audience). TokenX takes tokens from
 * ID-porten or from itself, for this app; an Entra ID token is not one of them.
 */
async function userAssertion(context: TexasContext, provider: string, userToken: string): Promise<Record<string, unknown>> {
  const { keys, audiences, app } = context;
  // Texas does not strip "Bearer " (docs/protocols/texas.md), so such a token fails here as it would upstream.
  const result = context.revoked.has(userToken) ? null : await keys.signed(userToken);
  const accepted = provider === 'entra_id' ? ['entra_id'] : ['idporten', 'tokenx'];
  const at = context.nowSeconds();
  if (provider === 'entra_id') {
    if (result === null || !accepted.includes(result.provider) || result.payload.iss !== keys.issuerOf(result.provider)) {
      throw new TexasError(400, 'invalid_grant', 'AADSTS50013: Assertion failed signature validation. [Reason - The key was not found.]');
    }
    const { exp, nbf, aud } = result.payload;
    if (typeof exp !== 'number' || exp <= at || (typeof nbf === 'number' && nbf > at)) {
      throw new TexasError(
        400,
        'invalid_grant',
        `AADSTS500133: Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: ${isoSeconds(at)}, assertion valid from ${isoSeconds(typeof nbf === 'number' ? nbf : (result.payload.iat as number))}, expiry time of assertion ${isoSeconds(exp as number)}.`,
      );
    }
    const audiencesOf = Array.isArray(aud) ? aud : [aud];
    if (!audiencesOf.includes(audiences.entra_id)) {
      throw new TexasError(
        400,
        'invalid_grant',
        `AADSTS500131: Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${String(aud)}' and the expected audience is '${audiences.entra_id}' or one of the Application Id URIs of this application.`,
      );
    }
    return result.payload;
  }
  if (result === null || result.payload.iss !== keys.issuerOf(result.provider)) {
    throw new TexasError(400, 'invalid_request', 'token exchange failed: subject_token: invalid signature or unknown issuer');
  }
  if (!accepted.includes(result.provider)) {
    throw new TexasError(
      400,
      'invalid_request',
      `token exchange failed: subject_token: issuer ${String(result.payload.iss)} is not trusted by TokenX (only ID-porten and TokenX)`,
    );
  }
  const { exp, nbf, aud } = result.payload;
  if (typeof exp !== 'number' || exp <= at || (typeof nbf === 'number' && nbf > at)) {
    throw new TexasError(400, 'invalid_request', 'token exchange failed: subject_token: expired or not yet valid');
  }
  if (!(Array.isArray(aud) ? aud : [aud]).includes(app)) {
    throw new TexasError(400, 'invalid_request', `token exchange failed: subject_token: audience ${JSON.stringify(aud)} is not this app (${app})`);
  }
  return result.payload;
}
