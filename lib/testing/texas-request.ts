import type { JWTPayload } from 'jose';
import type { TexasKeys } from './texas-keys.js';
import { canonical } from './texas-keys.js';
import type { TexasServerProvider } from './texas-server.js';

// What Texas's three endpoints share: how a body is read (docs/protocols/texas.md, "Requests"),
// how the required fields are checked and refused, the error bodies, and the one-hop state each
// endpoint reads (clock, keys, this app, revocations, Texas's own cache).

export const PROVIDERS = ['entra_id', 'azuread', 'maskinporten', 'tokenx', 'idporten'];
export const DESERIALIZE = 'Failed to deserialize the JSON body into the target type';
const DESERIALIZE_FORM = 'Failed to deserialize form body';
export const APP_NAME = /^([^:\s/]+):([^:\s/]+):([^:\s/]+)$/;

/** A refusal as Texas words it: the status and the two fields of its error body. */
export class TexasError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

/** A token in Texas's cache: when it was minted upstream and its lifetime in seconds. */
export interface Entry {
  token: string;
  mintedAt: number;
  lifetime: number;
}

/** What an endpoint reads of the server around it. */
export interface TexasContext {
  /** The clock, epoch ms. */
  now(): number;
  nowSeconds(): number;
  keys: TexasKeys;
  /** Enabled identity providers, `azuread` beside `entra_id`. */
  enabled: ReadonlySet<string>;
  /** This app, `<cluster>:<namespace>:<app>`. */
  app: string;
  /** This app's own audience per provider. */
  audiences: Readonly<Record<TexasServerProvider, string>>;
  /** Tokens revoked by the test. */
  revoked: ReadonlySet<string>;
  /** Texas's own cache around an upstream mint (see texas-cache.ts). */
  cached(key: string, skip: boolean, provider: string, claims: () => Promise<JWTPayload>): Promise<Entry>;
}

// docs/protocols/texas.md, "Requests": the content type must start with application/json or
// application/x-www-form-urlencoded (a charset suffix is fine); anything else, or none, is a 400.
export function parse(contentType: string, text: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('expected a JSON object');
    const body = value as Record<string, unknown>;
    // In JSON, skip_cache is a boolean: Texas's serde refuses the string "true" (a common slip).
    if (body.skip_cache !== undefined && typeof body.skip_cache !== 'boolean') {
      throw new SyntaxError(`skip_cache: invalid type: ${JSON.stringify(body.skip_cache)}, expected a boolean`);
    }
    return body;
  }
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const form: Record<string, unknown> = Object.fromEntries(new URLSearchParams(text));
    // A form field is text: serde reads exactly "true" or "false" as a boolean, and nothing else.
    if (form.skip_cache !== undefined) {
      if (form.skip_cache !== 'true' && form.skip_cache !== 'false') {
        throw new TexasError(400, 'invalid_request', `${DESERIALIZE_FORM}: skip_cache: provided string was not \`true\` or \`false\``);
      }
      form.skip_cache = form.skip_cache === 'true';
    }
    // In a form body authorization_details is a JSON string (docs/protocols/texas.md, "Machine token"):
    // text that does not parse is a form that does not deserialize, worded as the form's refusals are.
    if (typeof form.authorization_details === 'string') {
      try {
        form.authorization_details = JSON.parse(form.authorization_details);
      } catch (error) {
        throw new TexasError(400, 'invalid_request', `${DESERIALIZE_FORM}: authorization_details: ${(error as Error).message}`);
      }
    }
    return form;
  }
  throw new TexasError(400, 'invalid_request', `unsupported media type: ${contentType || 'none'}`);
}

/** Checks the fields docs/protocols/texas.md lists as required, in the order Texas reports them. */
export function required(context: TexasContext, body: Record<string, unknown>, allowed: string[], what: string, extra: string[] = []) {
  for (const name of ['identity_provider', 'target', ...extra]) {
    if (typeof body[name] !== 'string') throw new TexasError(400, 'invalid_request', `${DESERIALIZE}: missing field \`${name}\``);
  }
  const provider = body.identity_provider as string;
  if (!PROVIDERS.includes(provider)) {
    throw new TexasError(400, 'invalid_request', `${DESERIALIZE}: identity_provider: unknown variant \`${provider}\``);
  }
  if (!context.enabled.has(provider)) throw new TexasError(400, 'invalid_request', `identity provider '${provider}' is not enabled`);
  if (!allowed.includes(provider)) throw new TexasError(400, 'invalid_request', `identity provider '${provider}' does not support ${what}`);
  // azuread is the older name of entra_id: they share cache entries (docs/protocols/texas.md).
  return { provider: canonical(provider), target: body.target as string };
}

/**
 * The audience of an Entra ID token for `target`, or undefined when Entra would refuse the scope:
 * `api://c.ns.app/.default` and `c:ns:app` (Texas's short form) both give `api://c.ns.app`.
 */
function entraAudience(target: string): string | undefined {
  const app = APP_NAME.exec(target);
  if (app) return `api://${app[1]}.${app[2]}.${app[3]}`;
  return /^\S+\/\.default$/.test(target) ? target.replace(/\/\.default$/, '') : undefined;
}

/**
 * The token's audience for a target, as the provider decides it "upstream". Entra ID refuses a
 * scope that is not `…/.default` (client credentials: AADSTS1002012; on behalf of: AADSTS70011);
 * Texas passes the 400 through (docs/protocols/texas.md, "Answers").
 */
export function audienceFor(provider: string, target: string, grant: 'token' | 'exchange'): string {
  if (provider !== 'entra_id') return target;
  const aud = entraAudience(target);
  if (aud !== undefined) return aud;
  throw new TexasError(
    400,
    'invalid_scope',
    grant === 'token'
      ? `AADSTS1002012: The provided value for scope ${target} is not valid. Client credentials flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`
      : `AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${target} is not valid.`,
  );
}

/** Success is exactly three fields, and from the cache expires_in is the REMAINING lifetime (docs/protocols/texas.md, "Answers"). */
export function answer(context: TexasContext, entry: Entry) {
  return { access_token: entry.token, expires_in: Math.floor(entry.lifetime - (context.now() - entry.mintedAt) / 1000), token_type: 'Bearer' };
}
