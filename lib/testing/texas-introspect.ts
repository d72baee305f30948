import { compactVerify, decodeProtectedHeader } from 'jose';
import { canonical } from './texas-keys.js';
import { DESERIALIZE, PROVIDERS, TexasError, type TexasContext } from './texas-request.js';
import type { TexasServerProvider } from './texas-server.js';

// `POST /api/v1/introspect`, checking as Texas does (its src/oauth/token.rs): the key by kid from
// that provider's keys, the signature, `iss`, `exp` and `iat` required, `exp`, `nbf` and `iat`
// with 60 s leeway, `aud` equal to this app's own audience for the provider (Maskinporten: not
// checked), and Texas's reasons. "This app" is the `app` option (`<cluster>:<namespace>:<app>`):
// its audience is `api://<cluster>.<namespace>.<app>` for Entra ID and `<cluster>:<namespace>:<app>`
// for TokenX, ID-porten and Maskinporten.

/** Texas validates `exp`, `nbf` and `iat` with one minute of leeway (src/oauth/token.rs). */
const LEEWAY_SECONDS = 60;

export async function introspectEndpoint(context: TexasContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const provider = body.identity_provider;
  if (typeof provider !== 'string') throw new TexasError(400, 'invalid_request', `${DESERIALIZE}: missing field \`identity_provider\``);
  if (!PROVIDERS.includes(provider)) {
    throw new TexasError(400, 'invalid_request', `${DESERIALIZE}: identity_provider: unknown variant \`${provider}\``);
  }
  if (typeof body.token !== 'string') throw new TexasError(400, 'invalid_request', `${DESERIALIZE}: missing field \`token\``);
  // Always 200 for a well-formed request, a provider that is not enabled included (docs/protocols/texas.md,
  // "Introspection"; Texas's handler/token_introspect.rs).
  if (!context.enabled.has(provider)) return { active: false, error: `identity provider '${provider}' is not enabled` };
  return introspect(context, provider, body.token);
}

/** Texas's introspection of `token` for `provider`, its reasons included (src/oauth/token.rs). */
async function introspect(context: TexasContext, provider: string, token: string): Promise<Record<string, unknown>> {
  const inactive = (error: string) => ({ active: false, error });
  provider = canonical(provider);
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return inactive('invalid token header: InvalidToken');
  }
  if (kid === undefined) return inactive('missing key id from token header');
  // Each provider has its own key set: another provider's key is unknown here.
  if (kid !== provider) return inactive('token can not be validated with this identity provider');
  let payload: Record<string, unknown>;
  try {
    const verified = await compactVerify(token, context.keys.get(provider)!.publicKey, { algorithms: ['ES256'] });
    const parsed: unknown = JSON.parse(new TextDecoder().decode(verified.payload));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return inactive('invalid token: InvalidToken');
    payload = parsed as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return inactive('invalid token: InvalidAlgorithm');
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return inactive('invalid token: InvalidSignature');
    return inactive('invalid token: InvalidToken');
  }
  // jsonwebtoken's order: required claims, exp, nbf, iss, aud; then Texas's own iat check.
  const audience = provider === 'maskinporten' ? undefined : context.audiences[provider as TexasServerProvider];
  for (const claim of ['iss', 'exp', 'iat', ...(audience === undefined ? [] : ['aud'])]) {
    if (payload[claim] === undefined) return inactive(`invalid token: Missing required claim: ${claim}`);
  }
  const at = context.nowSeconds();
  if (typeof payload.exp !== 'number' || payload.exp < at - LEEWAY_SECONDS) return inactive('invalid token: ExpiredSignature');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > at + LEEWAY_SECONDS)) {
    return inactive('invalid token: ImmatureSignature');
  }
  if (payload.iss !== context.keys.issuerOf(provider)) return inactive('invalid token: InvalidIssuer');
  if (audience !== undefined) {
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (!aud.includes(audience)) return inactive('invalid token: InvalidAudience');
  }
  if (typeof payload.iat !== 'number' || payload.iat > at + LEEWAY_SECONDS) return inactive('invalid token: ImmatureSignature');
  // Texas has no revocation list; a token revoked here reads as one whose key was withdrawn.
  if (context.revoked.has(token)) return inactive('token can not be validated with this identity provider');
  return { active: true, ...payload };
}
