import { expect } from 'chai';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import nock from 'nock';
import { inspect } from 'node:util';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { texas } from '../../../lib/sources/texas.js';
import type { TokenSource } from '../../../lib/types.js';
import { useNock } from '../../support/nock.js';
import { cases, GOOD, SCOPE, SECRET, TOKEN, type Reply } from '../../support/corpus-cases.js';

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

  /** Records each client assertion sent, so that its bytes can be looked for too. */
  const recordAssertion = (body: string | Record<string, unknown>) => {
    const form = typeof body === 'string' ? new URLSearchParams(body) : new URLSearchParams(body as Record<string, string>);
    const assertion = form.get('client_assertion');
    if (assertion) assertions.push(assertion);
    return true;
  };

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
  /** The credential a request carried (its client_secret or client_assertion): what a server could echo. */
  const sentCredential = (body: string | Record<string, unknown>) => {
    recordAssertion(body);
    const form = typeof body === 'string' ? new URLSearchParams(body) : new URLSearchParams(body as Record<string, string>);
    return form.get('client_secret') ?? form.get('client_assertion') ?? '';
  };
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
    // Every test ran its faults (a test that stopped early would leave this short).
    expect(faults).to.be.at.least(3 * cases.filter((c) => c.code !== 'ok').length);
    if (process.env.HARDENING_FIGURES) console.log(`      ${faults} faults tried, ${totalFound} secrets found`);
  });

  describe('with nock', () => {
    useNock();

    for (const source of sources) {
      describe(source.name, () => {
        it('the corpus of bad answers: no secret or token in any error', async () => {
          for (const c of cases.filter((row) => row.code !== 'ok')) {
            const reply: Reply = typeof c.reply === 'function' ? c.reply() : c.reply;
            const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
            nock(source.origin)
              .post(source.path, recordAssertion)
              .reply(reply.status, body, { 'content-type': 'application/json', ...reply.headers });
            check(source, await failure(source.make().getToken(SCOPE)));
          }
        });

        it('an endpoint that echoes the credential back in every field of its error: redacted', async () => {
          // The server sees what was sent; echo it (the secret, or this request's assertion).
          const echo = (body: string | Record<string, unknown>) => {
            const sent = sentCredential(body);
            return {
              error: 'invalid_client',
              error_description: `AADSTS7000215: bad credential ${sent}`,
              error_uri: `https://x.example/?c=${sent}`,
              trace_id: sent,
              correlation_id: sent,
            };
          };
          for (const status of [400, 401, 403]) {
            nock(source.origin)
              .post(source.path)
              .reply(status, (_uri, body) => echo(body));
            const error = await failure(source.make().getToken(SCOPE));
            check(source, error);
            expect(error).to.include({ code: 'invalid_client', status });
          }
          // ... even as the error code itself: then it is no OAuth answer we can repeat.
          nock(source.origin)
            .post(source.path)
            .reply(400, (_uri, body) => ({ error: sentCredential(body) || 'invalid_request' }));
          check(source, await failure(source.make().getToken(SCOPE)));
        });

        it('retried faults (network, 408, 429, 500, 503), throttling and a redirect', async () => {
          const make = (extra: object) =>
            source.name === 'texas()'
              ? texas({ endpoint: `${TEXAS_ORIGIN}${TEXAS_PATH}`, ...extra })
              : source.name.includes('private key')
                ? clientCredentials({ tokenEndpoint: `${ORIGIN}${PATH}`, clientId: 'c', privateJwk: jwk, ...extra })
                : clientCredentials({ tokenEndpoint: `${ORIGIN}${PATH}`, clientId: 'c', clientSecret: SECRET, ...extra });
          const scope = nock(source.origin);
          // A network error whose message quotes what was sent (as some proxies' errors do).
          scope
            .post(source.path, recordAssertion)
            .times(2)
            .replyWithError(Object.assign(new Error(`socket hang up ${SECRET}`), { code: 'ECONNRESET' }));
          check(source, await failure(make({ retries: 1 }).getToken(SCOPE)));
          for (const status of [408, 429, 500, 503]) {
            nock(source.origin)
              .post(source.path)
              .times(2)
              .reply(status, (_uri, body) => ({ error: 'temporarily_unavailable', error_description: `busy ${sentCredential(body)}` }));
            check(source, await failure(make({ retries: 1 }).getToken(SCOPE)));
          }
          nock(source.origin).post(source.path, recordAssertion).reply(429, { error: 'slow_down' }, { 'retry-after': '3600' });
          check(source, await failure(make({ retries: 3 }).getToken(SCOPE)));
          nock(source.origin)
            .post(source.path)
            .reply(302, (_uri, body) => `moved ${sentCredential(body)}`, { location: `https://evil.example/collect?t=${TOKEN}` });
          check(source, await failure(make({ retries: 0 }).getToken(SCOPE)));
        });
      });
    }
  });
});
