// What validating a caller costs per request once its token is known: requireToken() asks Texas
// once per token and then answers from memory (a SHA-256 digest and a Map lookup), against
// verifying the same token locally with jose's jwtVerify and a cached key set (createLocalJWKSet),
// which is what @navikt/oasis's validateToken does per request. Texas signs with RS256 in
// production; the testing server with ES256, so the same claims signed RS256 are measured too.
import { SignJWT, createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { introspection } from '../../lib/inbound/introspection.js';
import { requireToken } from '../../lib/inbound/require-token.js';
import { startTexasServer } from '../../lib/testing/texas-server.js';
import { MICRO_TIME, QUICK, ROUNDS, fmt, median, p50, progress, table } from '../support.js';

export const heading = '9. Validating a caller';

export default async function run(): Promise<void> {
  const texas = await startTexasServer();
  try {
    const token = await texas.mintUserToken('bench-user', { claims: { roles: ['reader'] } });
    const validator = introspection({ endpoint: texas.introspectionEndpoint });
    const middleware = requireToken({ introspection: validator });

    // The first validation of a token: one request to Texas (here the loopback testing server).
    const firstMs: number[] = [];
    for (let i = 0; i < (QUICK ? 3 : 25); i++) {
      const fresh = await texas.mintUserToken(`first-${i}`);
      const started = performance.now();
      const result = await validator.validate(fresh);
      firstMs.push(performance.now() - started);
      if (!result.active) throw new Error(`bench: the testing server refused its own token: ${result.reason}`);
    }
    await validator.validate(token); // now cached

    // The middleware on its own: a request object, a next() that resolves when it is called.
    const req = { headers: { authorization: `Bearer ${token}` } };
    const throughMiddleware = () =>
      new Promise<void>((resolve, reject) =>
        middleware(req, undefined, (error?: unknown) =>
          error === undefined ? resolve() : reject(new Error('bench: the middleware passed an error to next()', { cause: error })),
        ),
      );

    const es256 = createLocalJWKSet(texas.jwks('entra_id'));
    const options = { issuer: `${texas.url}/entra_id`, audience: texas.audiences.entra_id };
    const rsa = await generateKeyPair('RS256');
    const rs256Jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rs', alg: 'RS256' }] });
    const rs256Token = await new SignJWT(decodeJwt(token)).setProtectedHeader({ alg: 'RS256', kid: 'rs' }).sign(rsa.privateKey);

    const variants: [string, () => unknown][] = [
      ['introspection().validate(token), cached', () => validator.validate(token)],
      ['requireToken() middleware, cached (to next())', throughMiddleware],
      ['jose jwtVerify, createLocalJWKSet, the same ES256 token', () => jwtVerify(token, es256, options)],
      ['jose jwtVerify, createLocalJWKSet, the same claims RS256 (as Entra signs)', () => jwtVerify(rs256Token, rs256Jwks, options)],
    ];
    const rounds = variants.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++) {
      progress(`validating a caller: round ${round + 1} of ${ROUNDS}`);
      for (const [i, [, fn]] of variants.entries()) rounds[i]!.push(await p50(fn, MICRO_TIME));
    }
    const ours = median(rounds[0]!);
    table(
      `${heading} (ns per request once the token is known, median of ${ROUNDS} rounds; first validation: one introspection request)`,
      ['validation', 'ns per request', 'vs cached introspection'],
      [
        ...variants.map(([name], i) => [name, fmt(median(rounds[i]!)), `${fmt(median(rounds[i]!) / ours, 1)}×`]),
        ['first validation of a token (introspection on loopback, median)', `${fmt(median(firstMs) * 1e6)} (${fmt(median(firstMs), 2)} ms)`, '—'],
      ],
    );
  } finally {
    await texas.close();
  }
}
