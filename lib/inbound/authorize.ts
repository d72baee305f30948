import type { TokenClaims } from './introspection.js';

// Checks for requireToken's `authorize` option, for the cases most APIs have. Each takes one or
// more values and requires ALL of them (as Auth0's requiredScopes does): a missing permission is
// never made up by another. Combine them, or write your own, with a plain function:
// `authorize: (claims) => hasRole('reader')(claims) || fromApp('dev-gcp:team:admin')(claims)`.

/** An `authorize` check that needs only the claims. */
export type ClaimsCheck = (claims: TokenClaims) => boolean;

function names(what: string, values: readonly string[]): readonly string[] {
  if (values.length === 0 || !values.every((v) => typeof v === 'string' && v !== '')) {
    throw new TypeError(`axios-m2m: ${what}() expects one or more non-empty strings`);
  }
  return [...values];
}

/**
 * Requires every named app role in the token's `roles` claim (Entra ID: the roles granted to the
 * calling app or user, e.g. `access_as_application` for machine callers).
 */
export function hasRole(...roles: string[]): ClaimsCheck {
  const required = names('hasRole', roles);
  return (claims) => {
    const granted = claims.roles;
    return Array.isArray(granted) && required.every((role) => granted.includes(role));
  };
}

/** Requires every named scope in the token's `scp` (Entra ID, space-separated) or `scope` (Maskinporten) claim. */
export function hasScope(...scopes: string[]): ClaimsCheck {
  const required = names('hasScope', scopes);
  return (claims) => {
    const granted = [claims.scp, claims.scope].flatMap((value) => (typeof value === 'string' ? value.split(' ') : []));
    return required.every((scope) => granted.includes(scope));
  };
}

/**
 * Allows only the named calling apps: `azp_name` (Entra ID on NAIS, `<cluster>:<namespace>:<app>`)
 * or, when the token has none, `client_id` (TokenX: `<cluster>:<namespace>:<app>`; Maskinporten
 * and ID-porten: the client's id).
 */
export function fromApp(...apps: string[]): ClaimsCheck {
  const allowed = new Set(names('fromApp', apps));
  return (claims) => {
    const caller = typeof claims.azp_name === 'string' ? claims.azp_name : claims.client_id;
    return typeof caller === 'string' && allowed.has(caller);
  };
}
