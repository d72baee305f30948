import { timingSafeEqual } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { ASSERTION_TYPE, verifyAssertion, type EntraClientCredentials } from './entra-assertion.js';
import { EntraError } from './entra-error.js';

// Entra ID's client credentials grant at `/<tenant>/oauth2/v2.0/token`, as strict as Entra ID
// (docs/protocols/entra.md): a form body only, one `…/.default` scope, a registered client with
// exactly one credential (secret, signed assertion, certificate or federated token), and Entra's
// error bodies with their AADSTS codes. Every request mints a new token, as Entra ID does.

/** What the endpoint needs from the server around it. */
export interface EntraEndpointContext {
  tenantId: string;
  /** The endpoint's own URL: what a client assertion's `aud` must be. */
  tokenEndpoint(): string;
  nowSeconds(): number;
  lifetime(): number;
  clients: Map<string, EntraClientCredentials>;
  /** Signs an Entra ID access token with the server's entra_id key. */
  sign(claims: JWTPayload, seconds: number): Promise<string>;
  /** The simulated upstream delay and the queued failures (failNext). */
  beforeMint(): Promise<void>;
}

const missing = (field: string) => new EntraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${field}'.`);

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Answers one request to the endpoint; `tenant` is the path's first segment. */
export async function entraToken(
  context: EntraEndpointContext,
  tenant: string,
  contentType: string,
  text: string,
  seenJti: Set<string>,
): Promise<Record<string, unknown>> {
  if (tenant !== context.tenantId) {
    throw new EntraError(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    );
  }
  // Entra ID reads only a form body: JSON reads as a body without fields.
  const form = contentType.startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(text) : new URLSearchParams();
  const grantType = form.get('grant_type');
  if (!grantType) throw missing('grant_type');
  if (grantType !== 'client_credentials') {
    throw new EntraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
  }
  const clientId = form.get('client_id');
  if (!clientId) throw missing('client_id');
  const scope = form.get('scope');
  if (!scope) throw missing('scope');
  const client = context.clients.get(clientId);
  if (client === undefined) {
    throw new EntraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${context.tenantId}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    );
  }
  const secret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  if (!secret && !assertion) {
    throw new EntraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  if (secret && assertion) {
    throw new EntraError(400, 'invalid_request', 90023, 'Only one client credential may be sent: client_secret or client_assertion.');
  }
  if (secret) {
    if (client.clientSecret === undefined || !same(secret, client.clientSecret)) {
      throw new EntraError(
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
      );
    }
  } else {
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      throw new EntraError(400, 'invalid_request', 90014, `The required field 'client_assertion_type' is missing or is not '${ASSERTION_TYPE}'.`);
    }
    await verifyAssertion(assertion!, clientId, client, context.tokenEndpoint(), context.nowSeconds(), seenJti);
  }
  if (/\s/.test(scope.trim())) {
    throw new EntraError(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`);
  }
  if (!/^\S+\/\.default$/.test(scope)) {
    throw new EntraError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credentials flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  await context.beforeMint();
  const lifetime = context.lifetime();
  const token = await context.sign(
    { aud: scope.replace(/\/\.default$/, ''), azp: clientId, appid: clientId, sub: clientId, oid: clientId, tid: context.tenantId, idtyp: 'app', idp: 'entra_id' },
    lifetime,
  );
  return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token };
}
