import { randomUUID } from 'node:crypto';
import { SignJWT, compactVerify, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { TexasServerProvider } from './texas-server.js';

// The testing server's signing keys: one ES256 key per identity provider (kid = the provider's
// name) and issuer `<url>/<provider>` (azuread is entra_id). Every endpoint signs and checks
// tokens through these, so a token minted by one is recognised by the others.

/** The providers whose tokens the server signs. */
export const SIGNING_PROVIDERS: readonly TexasServerProvider[] = ['entra_id', 'tokenx', 'idporten', 'maskinporten'];

/** `azuread` is the older name of `entra_id`: they share keys, issuer and cache entries. */
export const canonical = (provider: string): string => (provider === 'azuread' ? 'entra_id' : provider);

interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

/** The keys, and signing and checking with them. */
export interface TexasKeys {
  /** The key pair of a provider (canonical name), for introspection's own checks. */
  get: (provider: string) => SigningKey | undefined;
  /** The issuer of a provider's tokens (`<url>/<provider>`). */
  issuerOf: (provider: string) => string;
  /** A token of `provider` with `claims`, `iat` now, `exp` `seconds` on and a fresh `jti`. */
  sign: (provider: string, claims: JWTPayload, seconds: number) => Promise<string>;
  /** The payload of a token signed by one of the keys, with the provider that signed it, or null. */
  signed: (token: string) => Promise<{ provider: string; payload: Record<string, unknown> } | null>;
}

/** Makes a key per signing provider; `url` is read when a token is signed (the port is known after listen). */
export async function createTexasKeys(url: () => string, nowSeconds: () => number): Promise<TexasKeys> {
  const keys = new Map<string, SigningKey>();
  await Promise.all(
    SIGNING_PROVIDERS.map(async (provider) => {
      const { privateKey, publicKey } = await generateKeyPair('ES256');
      const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: provider, alg: 'ES256', use: 'sig' };
      keys.set(provider, { privateKey, publicKey, publicJwk });
    }),
  );
  const issuerOf = (provider: string) => `${url()}/${canonical(provider)}`;
  return {
    get: (provider) => keys.get(provider),
    issuerOf,
    sign(provider, claims, seconds) {
      const issuedAt = nowSeconds();
      return new SignJWT({ iss: issuerOf(provider), ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: canonical(provider), typ: 'JWT' })
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + seconds)
        .setJti(randomUUID())
        .sign(keys.get(canonical(provider))!.privateKey);
    },
    async signed(token) {
      try {
        const kid = decodeProtectedHeader(token).kid;
        const key = kid === undefined ? undefined : keys.get(kid);
        if (key === undefined) return null;
        const { payload } = await compactVerify(token, key.publicKey, { algorithms: ['ES256'] });
        const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
        return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? { provider: kid!, payload: claims as Record<string, unknown> } : null;
      } catch {
        return null;
      }
    },
  };
}
