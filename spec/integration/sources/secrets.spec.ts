import { expect } from 'chai';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import nock from 'nock';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { texas } from '../../../lib/sources/texas.js';
import type { TokenSource } from '../../../lib/types.js';
import { GOOD, SCOPE, SECRET, TOKEN } from '../../support/corpus-cases.js';

// Every failure path of the token request, driven with recognisable secrets: the client secret, the
// private key and each client assertion signed with it, and the access tokens in rejected answers.
// None of their bytes may appear in what a caller (or a logger) can see of the TokenError.

const ORIGIN = 'https://login.example';
const PATH = '/tenant/oauth2/v2.0/token';
const TEXAS_ORIGIN = 'http://127.0.0.1:7164';
const TEXAS_PATH = '/api/v1/token';

/** Everything of an error a caller could print: message, JSON, a deep inspect, and each cause. */
function views(error: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 10; depth += 1) {
    out.push(String((e as Error).message), JSON.stringify(e) ?? '', inspect(e, { depth: Infinity, showHidden: true }));
    e = (e as Error).cause;
  }
  return out;
}

interface Source {
  name: string;
  origin: string;
  path: string;
  make(): TokenSource;
  /** The secret values this source sends (filled in as requests are made, for assertions). */
  secrets(): string[];
}

describe('no secrets or tokens in token errors', function () {
  this.timeout(20_000);
  let faults = 0;
  let totalFound = 0;
  let jwk: JWK;
  const assertions: string[] = [];

  const sources: Source[] = [
    {
      name: 'clientCredentials() with a secret',
      origin: ORIGIN,
      path: PATH,
      make: () => clientCredentials({ tokenEndpoint: `${ORIGIN}${PATH}`, clientId: 'c', clientSecret: SECRET, retries: 0 }),
      secrets: () => [SECRET],
    },
    {
      name: 'clientCredentials() with a private key',
      origin: ORIGIN,
      path: PATH,
      make: () => clientCredentials({ tokenEndpoint: `${ORIGIN}${PATH}`, clientId: 'c', privateJwk: jwk, retries: 0 }),
      // The private exponent and primes, and every assertion's signature (its most secret part).
      secrets: () => [jwk.d!, jwk.p!, jwk.q!, ...assertions.map((a) => a.split('.')[2]!)],
    },
    {
      name: 'texas()',
      origin: TEXAS_ORIGIN,
      path: TEXAS_PATH,
      make: () => texas({ endpoint: `${TEXAS_ORIGIN}${TEXAS_PATH}`, retries: 0 }),
      secrets: () => [],
    },
  ];

  function check(source: Source, error: unknown): void {
    faults += 1;
    expect(error, 'a TokenError').to.be.instanceOf(TokenError);
    const secrets = [TOKEN, GOOD.access_token, ...source.secrets()];
    const found = new Set<string>();
    for (const view of views(error)) for (const secret of secrets) if (view.includes(secret)) found.add(secret);
    totalFound += found.size;
    expect([...found], 'secret bytes found in a TokenError').to.deep.equal([]);
  }
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('should have failed'),
      (e: unknown) => e,
    );

  before(async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    jwk = { ...(await exportJWK(privateKey)), kid: 'secrets-spec' };
  });
  after(() => {
    // The test ran a timeout for every source (a test that stopped early would leave this short).
    expect(faults).to.equal(sources.length);
    if (process.env.HARDENING_FIGURES) console.log(`      ${faults} faults tried, ${totalFound} secrets found`);
  });

  describe('with a real server that never answers', () => {
    let hanging: Server;
    before(async () => {
      nock.restore();
      hanging = createServer((req) => req.resume()); // reads the body, never answers
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
      nock.activate();
    });

    it('timeouts of every source: no secret in the error', async () => {
      const endpoint = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/token`;
      const http = { attemptTimeout: 100, retries: 1, timeout: 1_000 };
      const made: [Source, TokenSource][] = [
        [sources[0]!, clientCredentials({ tokenEndpoint: endpoint, clientId: 'c', clientSecret: SECRET, ...http })],
        [sources[1]!, clientCredentials({ tokenEndpoint: endpoint, clientId: 'c', privateJwk: jwk, ...http })],
        [sources[2]!, texas({ endpoint, ...http })],
      ];
      for (const [source, tokens] of made) {
        const error = await failure(tokens.getToken(SCOPE));
        expect(error).to.have.property('code', 'timeout');
        check(source, error);
      }
    });
  });
});
