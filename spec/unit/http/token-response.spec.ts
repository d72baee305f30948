import axios from 'axios';
import { expect } from 'chai';
import nock from 'nock';
import { inspect } from 'node:util';
import { TokenError } from '../../../lib/errors.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { texas } from '../../../lib/sources/texas.js';
import type { TokenSource } from '../../../lib/types.js';
import { useNock } from '../../support/nock.js';
import { cases, GOOD, SCOPE, SECRET } from '../../support/corpus-cases.js';

// The bad-input corpus: answers a token endpoint (or whatever sits in front of it) can send that
// are not a usable token. Each must end in a clear TokenError, never a crash, an unhandled
// rejection or a cached bad token, and the next good answer must work. Add a row to extend it.

const sources: { name: string; origin: string; path: string; make(): TokenSource }[] = [
  {
    name: 'clientCredentials()',
    origin: 'https://login.example',
    path: '/tenant/oauth2/v2.0/token',
    make: () => clientCredentials({ tokenEndpoint: 'https://login.example/tenant/oauth2/v2.0/token', clientId: 'c', clientSecret: SECRET, retries: 0 }),
  },
  {
    name: 'texas()',
    origin: 'http://127.0.0.1:7164',
    path: '/api/v1/token',
    make: () => texas({ endpoint: 'http://127.0.0.1:7164/api/v1/token', retries: 0 }),
  },
];

describe('bad answers from the token endpoint (the corpus)', () => {
  useNock();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled, 'unhandled rejections during the corpus').to.deep.equal([]);
  });

  it(`has at least 45 cases (it has ${cases.length})`, () => {
    expect(cases.length).to.be.at.least(45);
  });

  for (const source of sources) {
    describe(source.name, () => {
      for (const c of cases) {
        it(`${c.name}: ${c.code === 'ok' ? 'a usable token' : `TokenError ${c.code}`}, and the next good answer works`, async () => {
          const reply = typeof c.reply === 'function' ? c.reply() : c.reply;
          const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
          nock(source.origin)
            .post(source.path)
            .reply(reply.status, body, { 'content-type': 'application/json', ...reply.headers });
          const tokens = source.make();
          const sent = Date.now();
          const result = await tokens.getToken(SCOPE).then(
            (token) => ({ token }),
            (error: unknown) => ({ error }),
          );
          if (c.code === 'ok') {
            expect(result).to.have.property('token');
            const { token } = result as { token: { token: string; expiresAt: number } };
            if (c.expiresIn) expect(c.expiresIn(token.expiresAt - sent), `lifetime ${token.expiresAt - sent} ms`).to.equal(true);
            return;
          }
          const error = (result as { error: TokenError }).error;
          expect(error).to.be.instanceOf(TokenError);
          expect(error.code).to.equal(c.code);
          expect(error.message).to.match(new RegExp(`^token request for ${SCOPE.replace(/[./]/g, '\\$&')} failed: `));
          expect(error.message).to.not.match(/[\r\n]/);
          expect(error.message.length).to.be.below(600);
          expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(SECRET);
          expect(JSON.stringify(error)).to.not.include(SECRET);
          // Nothing bad was cached: the next good answer is used.
          nock(source.origin).post(source.path).reply(200, GOOD);
          expect((await tokens.getToken(SCOPE)).token).to.equal('good-token');
        });
      }
    });
  }
});

describe('bad input from the user', () => {
  const source = texas({ endpoint: 'http://127.0.0.1:7164/api/v1/token' });

  for (const scope of ['', ' ', 'api://a/.default ', 'api://a/.default\napi://b', 'api://a/\u0000.default', 42, undefined]) {
    it(`rejects the scope ${JSON.stringify(scope)} at once with a TypeError, before any request`, async () => {
      const error = await source.getToken(scope as string).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(TypeError);
      expect((error as Error).message).to.match(/^axios-m2m: expected scope to be/);
    });
  }

  const wrongOptions: [string, () => unknown, RegExp][] = [
    ['texas({ endpoint: 42 })', () => texas({ endpoint: 42 as never }), /endpoint/],
    ['texas({ identityProvider: "tokenx" })', () => texas({ endpoint: 'http://127.0.0.1:1/t', identityProvider: 'tokenx' as never }), /identityProvider/],
    ['texas({ bodyFormat: "xml" })', () => texas({ endpoint: 'http://127.0.0.1:1/t', bodyFormat: 'xml' as never }), /bodyFormat/],
    ['texas("endpoint")', () => texas('http://127.0.0.1:1/t' as never), /options/],
    ['clientCredentials({ retries: -1 })', () => clientCredentials({ tokenEndpoint: 'https://x.example/t', clientId: 'c', clientSecret: 's', retries: -1 }), /retries/],
    [
      'clientCredentials({ attemptTimeout: "10s" })',
      () => clientCredentials({ tokenEndpoint: 'https://x.example/t', clientId: 'c', clientSecret: 's', attemptTimeout: '10s' as never }),
      /attemptTimeout/,
    ],
    [
      'attachToken(api, { source: texas(...), retryOn: "x" })',
      () => attachToken(axios.create(), { source: texas({ endpoint: 'http://127.0.0.1:1/t' }), retryOn: 'x' as never }),
      /retryOn/,
    ],
    [
      'clientCredentials({ maxEntries: 1.5 })',
      () => clientCredentials({ tokenEndpoint: 'https://x.example/t', clientId: 'c', clientSecret: 's', maxEntries: 1.5 }),
      /maxEntries/,
    ],
    [
      'clientCredentials({ expiryMargin: NaN })',
      () => clientCredentials({ tokenEndpoint: 'https://x.example/t', clientId: 'c', clientSecret: 's', expiryMargin: Number.NaN }),
      /expiryMargin/,
    ],
  ];
  for (const [name, make, pattern] of wrongOptions) {
    it(`refuses ${name} at once with a TypeError naming the option`, () => {
      expect(make).to.throw(TypeError, pattern);
    });
  }
});
