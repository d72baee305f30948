import axios, { type AxiosAdapter } from 'axios';
import { expect } from 'chai';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { withCache } from '../../../lib/cache/with-cache.js';
import { TokenError } from '../../../lib/errors.js';
import type { AccessToken, GetTokenOptions } from '../../../lib/types.js';

// Waiters share a fetch, never its error: in 0.1.0 every waiter got the same
// TokenError, and axios appended each caller's stack to it (1.3 MB for 5,000 waiters).

/** A fetch that fails when the test says so, counting its calls. */
function failingFetch() {
  const calls: GetTokenOptions[] = [];
  let fail: (error: unknown) => void = () => {};
  const fetch = (_scope: string, options: GetTokenOptions) => {
    calls.push(options);
    return new Promise<AccessToken>((_resolve, reject) => (fail = reject));
  };
  return { calls, fetch, fail: (error: unknown) => fail(error) };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('should have failed'),
    (e: unknown) => e,
  );

describe('withCache: every caller of a failed shared fetch gets its own error', () => {
  it('5,000 axios requests through attachToken on one failing fetch: distinct, small errors with the same code and message', async () => {
    const { calls, fetch, fail } = failingFetch();
    const source = withCache(fetch, { endpoint: 'http://127.0.0.1:1/token' });
    let sent = 0;
    const adapter: AxiosAdapter = async (config) => {
      sent += 1;
      return { data: 'never', status: 200, statusText: 'OK', headers: {}, config };
    };
    const api = axios.create({ baseURL: 'http://127.0.0.1:1', adapter });
    attachToken(api, { source, scope: 'api://x/.default' });
    // Each caller awaits its own request, as application code does, so each has its own async
    // stack (`at async Promise.all (index i)`) for axios to append: a shared error would grow.
    const pending = Array.from({ length: 5_000 }, async (_, i) => {
      try {
        await api.get(`/items/${i}`);
      } catch (error) {
        return error;
      }
      return expect.fail('should have failed');
    });
    await settle();
    expect(calls).to.have.length(1);
    const cause = new Error('connect ECONNREFUSED');
    fail(new TokenError('network', 'token request for api://x/.default failed: unreachable', { scope: 'api://x/.default', status: 503, cause }));
    const errors = (await Promise.all(pending)) as TokenError[];
    expect(sent).to.equal(0);
    expect(Math.max(...errors.map((e) => e.stack!.length))).to.be.below(16 * 1024);
    expect(new Set(errors).size).to.equal(5_000);
    for (const error of errors) {
      expect(error).to.be.instanceOf(TokenError);
      expect(error.code).to.equal('network');
      expect(error.message).to.equal('token request for api://x/.default failed: unreachable');
      expect(error.status).to.equal(503);
      expect(error.scope).to.equal('api://x/.default');
      expect(error.cause).to.equal(cause);
    }
  });

  it('gives forced-refresh waiters their own errors, and a change to one reaches no other', async () => {
    const { calls, fetch, fail } = failingFetch();
    const source = withCache(fetch);
    const pending = Array.from({ length: 3 }, () => errorOf(source.getToken('s', { forceRefresh: true })));
    await settle();
    expect(calls).to.have.length(1);
    fail(new TokenError('invalid_client', 'bad secret', { status: 401 }));
    const [a, b, c] = (await Promise.all(pending)) as (TokenError & { extra?: string })[];
    a!.stack += '\n    at someone (else.js:1:1)';
    a!.extra = 'set by one caller';
    expect(b!.stack).to.not.include('someone');
    expect(b).to.not.have.property('extra');
    expect(c).to.not.equal(b);
    expect(c!.code).to.equal('invalid_client');
  });

  it('gives each retried request of a 401 storm its own error when the forced refresh fails', async () => {
    let forced = 0;
    let fail: (error: unknown) => void = () => {};
    const source = withCache((_scope, options) => {
      if (!options.forceRefresh) return Promise.resolve({ token: 'refused', expiresAt: Date.now() + 3_600_000 });
      forced += 1;
      return new Promise<AccessToken>((_resolve, reject) => (fail = reject));
    });
    let refused = 0;
    const adapter: AxiosAdapter = async (config) => {
      const response = { data: '', status: 200, statusText: 'OK', headers: {}, config };
      if (config.url === '/warm') return response;
      refused += 1;
      throw new axios.AxiosError('refused', 'ERR_BAD_REQUEST', config, {}, { ...response, status: 401, statusText: 'Unauthorized' });
    };
    const api = axios.create({ baseURL: 'http://127.0.0.1:1', adapter });
    attachToken(api, { source, scope: 's' });
    await api.get('/warm'); // caches the token the API is about to refuse
    const pending = Array.from({ length: 200 }, () => errorOf(api.get('/x')));
    for (let i = 0; i < 10 && forced < 1; i++) await settle();
    expect(refused).to.equal(200);
    expect(forced).to.equal(1); // one forced fetch for the whole storm
    fail(new TokenError('server_error', 'still down', { status: 500 }));
    const errors = (await Promise.all(pending)) as TokenError[];
    expect(new Set(errors).size).to.equal(200);
    expect(errors.every((e) => e instanceof TokenError && e.code === 'server_error' && e.message === 'still down')).to.equal(true);
    expect(Math.max(...errors.map((e) => e.stack!.length))).to.be.below(16 * 1024);
  });

  it('copies an error of another class into its own object of the same class', async () => {
    class SourceError extends Error {
      override name = 'SourceError';
      constructor(
        message: string,
        readonly code: string,
      ) {
        super(message);
      }
    }
    const { fetch, fail } = failingFetch();
    const source = withCache(fetch);
    const pending = [errorOf(source.getToken('s')), errorOf(source.getToken('s'))];
    await settle();
    const original = new SourceError('vault sealed', 'E_SEALED');
    fail(original);
    const [a, b] = (await Promise.all(pending)) as SourceError[];
    for (const error of [a, b]) {
      expect(error).to.be.instanceOf(SourceError).and.not.equal(original);
      expect(error).to.include({ name: 'SourceError', message: 'vault sealed', code: 'E_SEALED', stack: original.stack });
    }
    expect(a).to.not.equal(b);
  });

  it('rebuilds a DOMException, passes a thrown string, null or undefined as it is, and wraps what cannot be copied (the original as its cause)', async () => {
    class Sealed extends Error {
      readonly #why = 'private';
      override get message() {
        return this.#why;
      }
    }
    const sealed = new Sealed();
    const cases: [unknown, (error: unknown) => void][] = [
      [
        new DOMException('The operation timed out.', 'TimeoutError'),
        (error) => expect(error).to.be.instanceOf(DOMException).and.include({ name: 'TimeoutError', message: 'The operation timed out.' }),
      ],
      ['plain string', (error) => expect(error).to.equal('plain string')],
      [null, (error) => expect(error).to.equal(null)],
      [undefined, (error) => expect(error).to.equal(undefined)],
      [
        sealed,
        (error) =>
          expect(error)
            .to.be.instanceOf(TokenError)
            .and.include({ code: 'unknown', message: 'token request for s failed with an error that cannot be copied', scope: 's', cause: sealed }),
      ],
    ];
    for (const [thrown, check] of cases) {
      const { fetch, fail } = failingFetch();
      const source = withCache(fetch);
      const pending = [errorOf(source.getToken('s')), errorOf(source.getToken('s'))];
      await settle();
      fail(thrown);
      const [a, b] = await Promise.all(pending);
      check(a);
      check(b);
      if (typeof thrown === 'object' && thrown !== null) expect(a).to.not.equal(b).and.not.equal(thrown);
    }
  });
});
