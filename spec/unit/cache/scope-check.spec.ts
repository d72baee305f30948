import { expect } from 'chai';
import nock from 'nock';
import sinon from 'sinon';
import { withCache } from '../../../lib/cache/with-cache.js';
import type { TokenError } from '../../../lib/errors.js';
import { MAX_SCOPE_LENGTH, forMessage } from '../../../lib/options.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { texas } from '../../../lib/sources/texas.js';
import type { AccessToken, GetTokenOptions } from '../../../lib/types.js';
import { useNock } from '../../support/nock.js';

// Inputs checked, never reinterpreted: in 0.1.0 withCache(fn) passed CR/LF,
// `123`, `{}` and '' through to the fetch function, and a 100 KB scope gave a 102,531-character
// error message.

function countingFetch() {
  const calls: string[] = [];
  const fetch = async (scope: string, _options: GetTokenOptions): Promise<AccessToken> => {
    calls.push(scope);
    return { token: 't', expiresAt: Date.now() + 3_600_000 };
  };
  return { calls, fetch };
}

const REFUSED: [string, unknown][] = [
  ['the empty string', ''],
  ['CR/LF', 'api://x/.default\r\nX-Injected: 1'],
  ['a line feed', 'a\nb'],
  ['a tab', 'a\tb'],
  ['a number', 123],
  ['an object', {}],
  ['null', null],
  ['undefined', undefined],
  ['two spaces between items', 'a  b'],
  ['a leading space', ' a'],
  ['a trailing space', 'a '],
  ['a control character', 'a\u0000b'],
  ['a non-ASCII character', 'api://bådløs/.default'],
  ['an over-long scope', 'x'.repeat(MAX_SCOPE_LENGTH + 1)],
];

describe('withCache: the scope is checked before any fetch, the same way for every source', () => {
  for (const [what, scope] of REFUSED) {
    it(`rejects ${what} with a TypeError, without fetching, for a function and an object source`, async () => {
      const { calls, fetch } = countingFetch();
      const keys: string[] = [];
      for (const source of [withCache(fetch, { cacheKey: (s) => (keys.push(s), s) }), withCache({ getToken: fetch })]) {
        let result: Promise<AccessToken> | undefined;
        expect(() => (result = source.getToken(scope as string))).to.not.throw(); // a rejected promise, not a throw
        const error = await result!.then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(TypeError);
        expect((error as TypeError).message).to.match(/^axios-m2m: expected scope to be printable ASCII scopes separated by single spaces/);
        expect(source.size).to.equal(0);
      }
      expect(calls).to.deep.equal([]);
      expect(keys).to.deep.equal([]); // not even the cache key sees it
    });
  }

  it('takes one scope, a space-separated list (Maskinporten) and a scope of the longest length', async () => {
    const { calls, fetch } = countingFetch();
    const source = withCache(fetch);
    const longest = 'x'.repeat(MAX_SCOPE_LENGTH);
    for (const scope of ['api://dev-gcp.team.app/.default', 'nav:aap:afp.read nav:aap:afp.write', longest]) await source.getToken(scope);
    expect(calls).to.deep.equal(['api://dev-gcp.team.app/.default', 'nav:aap:afp.read nav:aap:afp.write', longest]);
  });

  it('says what is wrong in a short message for a 100 KB scope', async () => {
    const source = withCache(countingFetch().fetch);
    const error = (await source.getToken('s'.repeat(100_000)).catch((e: unknown) => e)) as TypeError;
    expect(error.message).to.equal(
      `axios-m2m: expected scope to be printable ASCII scopes separated by single spaces, at most ${MAX_SCOPE_LENGTH} characters, ` +
        `got "${'s'.repeat(40)}…" (100000 characters)`,
    );
  });

  it('keeps the stricter check of a built-in source: Entra ID takes no whitespace', async () => {
    const error = await clientCredentials({ tokenEndpoint: 'http://127.0.0.1:1/token', clientId: 'c', clientSecret: 's' })
      .getToken('a:b c:d')
      .catch((e: unknown) => e);
    expect(error)
      .to.be.instanceOf(TypeError)
      .with.property('message')
      .that.match(/without whitespace/);
  });
});

describe('forMessage: long scopes and endpoints are cut in every message', () => {
  const long = `api://${'x'.repeat(1_990)}/.default`;

  it('keeps up to 100 characters whole and cuts longer ones, saying their length', () => {
    expect(forMessage('x'.repeat(100))).to.equal('x'.repeat(100));
    expect(forMessage('x'.repeat(101))).to.equal(`${'x'.repeat(100)}… (101 characters)`);
  });

  describe('in TokenError messages', () => {
    useNock();
    let clock: sinon.SinonFakeTimers | undefined;
    afterEach(() => clock?.restore());

    it('the deadline of a fetch', async () => {
      clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
      const source = withCache(() => new Promise<AccessToken>(() => {}), { timeout: 1_000, endpoint: `http://127.0.0.1:1/${'p'.repeat(500)}` });
      const pending = source.getToken(long).catch((e: unknown) => e);
      await clock.tickAsync(1_000);
      const error = (await pending) as TokenError;
      expect(error.code).to.equal('timeout');
      expect(error.message).to.equal(
        `token request for ${long.slice(0, 100)}… (${long.length} characters) from http://127.0.0.1:1/${'p'.repeat(81)}… (519 characters) timed out after 1000 ms`,
      );
      expect(error.scope).to.equal(long); // the field keeps it whole
    });

    it("an endpoint's error answer", async () => {
      nock('http://127.0.0.1:7164').post('/api/v1/token').reply(400, { error: 'invalid_scope', error_description: 'no such scope' });
      const error = (await texas({ endpoint: 'http://127.0.0.1:7164/api/v1/token' })
        .getToken(long)
        .catch((e: unknown) => e)) as TokenError;
      expect(error.code).to.equal('invalid_scope');
      expect(error.message).to.have.length.below(300);
      expect(error.message).to.include(`token request for ${long.slice(0, 100)}… (${long.length} characters) failed`);
    });
  });
});
