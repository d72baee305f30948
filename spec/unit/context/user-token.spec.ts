import { expect } from 'chai';
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import axios from 'axios';
import nock from 'nock';
import { bearerTokenOf, currentUserToken, inEndedUserContext, withRequestUserToken, withUserToken } from '../../../lib/context/user-token.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('withUserToken(token, fn)', () => {
  it('makes the token current for fn, synchronously and across awaits, timers and events', async () => {
    const emitter = new EventEmitter();
    const seen: (string | undefined)[] = [];
    await withUserToken('user-a', async () => {
      seen.push(currentUserToken());
      await tick();
      seen.push(currentUserToken());
      await new Promise<void>((resolve) => setTimeout(() => (seen.push(currentUserToken()), resolve()), 1));
      emitter.on('x', () => seen.push(currentUserToken()));
    });
    expect(currentUserToken()).to.equal(undefined);
    // Listeners run in the emitter's context, not where they were registered: the middleware
    // therefore wraps the whole handling, not a callback.
    withUserToken('user-b', () => emitter.emit('x'));
    expect(seen).to.deep.equal(['user-a', 'user-a', 'user-a', 'user-b']);
  });

  it('returns what fn returns', () => {
    expect(withUserToken('t', () => 42)).to.equal(42);
  });

  it('drops a Bearer prefix and treats an empty token as none', () => {
    expect(withUserToken('Bearer abc', currentUserToken)).to.equal('abc');
    expect(withUserToken('  BEARER\tabc ', currentUserToken)).to.equal('abc');
    expect(withUserToken('', currentUserToken)).to.equal(undefined);
    expect(withUserToken('Bearer', currentUserToken)).to.equal(undefined);
  });

  it('hides an outer token from an inner context without one', () => {
    expect(withUserToken('outer', () => withUserToken(undefined, currentUserToken))).to.equal(undefined);
    expect(withUserToken('outer', () => withUserToken('inner', currentUserToken))).to.equal('inner');
  });

  it('keeps interleaved concurrent contexts apart', async () => {
    const users = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    const seen = await Promise.all(
      users.map((user, i) =>
        withUserToken(user, async () => {
          for (let step = 0; step < (i % 5) + 1; step++) await tick();
          return currentUserToken();
        }),
      ),
    );
    expect(seen).to.deep.equal(users);
  });

  it('checks its arguments', () => {
    expect(() => withUserToken(42 as never, () => 0)).to.throw(TypeError, 'axios-m2m: expected token to be a string, got number');
    expect(() => withUserToken('t', undefined as never)).to.throw(TypeError, /expected fn to be a function/);
  });
});

describe('withRequestUserToken(token, res, fn): a context that ends with its response', () => {
  /** What code run in the current context sees, bound to it as a resource created here would be. */
  const reader = () => AsyncResource.bind(() => [currentUserToken(), inEndedUserContext()]);

  it('serves the token until res closes, and none afterwards, to what was created inside it', async () => {
    const res = new EventEmitter();
    const seen: unknown[] = [];
    // As a lazily opened connection is: a resource made in the request's context, called much later.
    const later = await withRequestUserToken('Bearer user-a', res, async () => {
      seen.push(currentUserToken(), inEndedUserContext());
      await tick();
      seen.push(currentUserToken());
      return reader();
    });
    expect(seen).to.deep.equal(['user-a', false, 'user-a']);
    expect(later()).to.deep.equal(['user-a', false]);
    res.emit('close');
    expect(later()).to.deep.equal([undefined, true]);
    res.emit('close'); // a second close changes nothing
    expect(later()).to.deep.equal([undefined, true]);
  });

  it('ends only its own context: another request of another user is untouched', () => {
    const first = new EventEmitter();
    const second = new EventEmitter();
    const inFirst = withRequestUserToken('user-a', first, reader);
    const inSecond = withRequestUserToken('user-b', second, reader);
    first.emit('close');
    expect(inFirst()).to.deep.equal([undefined, true]);
    expect(inSecond()).to.deep.equal(['user-b', false]);
    second.emit('close');
    expect(inSecond()).to.deep.equal([undefined, true]);
  });

  it('leaves the context open for a res without once (a framework stand-in), as withUserToken does', () => {
    for (const res of [undefined, null, {}, { once: 'no' }]) {
      expect(withRequestUserToken('user-a', res, () => [currentUserToken(), inEndedUserContext()])).to.deep.equal(['user-a', false]);
    }
  });

  it('outside any context, and in an open one, nothing is ended', () => {
    expect(inEndedUserContext()).to.equal(false);
    expect(withUserToken('x', inEndedUserContext)).to.equal(false);
    expect(withUserToken(undefined, inEndedUserContext)).to.equal(false);
  });
});

describe('bearerTokenOf(authorization)', () => {
  it('reads the token of a Bearer header only', () => {
    expect(bearerTokenOf('Bearer abc.def')).to.equal('abc.def');
    expect(bearerTokenOf('bearer abc')).to.equal('abc');
    // Two headers are ambiguous: neither is read (the full table is in spec/unit/core/bearer.spec.ts).
    expect(bearerTokenOf(['Bearer first', 'Bearer second'])).to.equal(undefined);
    expect(bearerTokenOf('Basic dXNlcjpwYXNz')).to.equal(undefined);
    expect(bearerTokenOf('Bearerabc')).to.equal(undefined);
    expect(bearerTokenOf('Bearer ')).to.equal(undefined);
    expect(bearerTokenOf(undefined)).to.equal(undefined);
  });
});

describe("attachToken(api, { source: onBehalfOf() }): the 401 retry keeps the user's context", () => {
  const TEXAS = 'http://127.0.0.1:7164';
  const API = 'http://127.0.0.1:7777';
  const SCOPE = 'api://dev-gcp.team.other-api/.default';
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, 'unused nock replies').to.deep.equal([]);
  });

  it("refreshes the same user's token with skip_cache: true and retries once with it", async () => {
    const exchanges: Record<string, unknown>[] = [];
    nock(TEXAS)
      .post('/api/v1/token/exchange', (b) => (exchanges.push(b as Record<string, unknown>), true))
      .times(4)
      .reply(200, (_uri, b) => {
        const body = b as Record<string, unknown>;
        const n = exchanges.filter((e) => e.user_token === body.user_token).length;
        return { access_token: `${String(body.user_token)}-obo-${n}`, expires_in: 3599, token_type: 'Bearer' };
      });
    const seenByApi: string[] = [];
    nock(API)
      .get('/me')
      .times(4)
      .reply(function () {
        const auth = String(this.req.headers.authorization);
        seenByApi.push(auth);
        // The API refuses every first exchanged token.
        return auth.endsWith('-obo-1') ? [401, 'refused'] : [200, { auth }];
      });
    const api = axios.create({ baseURL: API });
    attachToken(api, { source: onBehalfOf({ endpoint: `${TEXAS}/api/v1/token/exchange` }), scope: SCOPE });

    const [a, b] = await Promise.all([withUserToken('user-a', () => api.get('/me')), withUserToken('user-b', () => api.get('/me'))]);
    expect(a.data).to.deep.equal({ auth: 'Bearer user-a-obo-2' });
    expect(b.data).to.deep.equal({ auth: 'Bearer user-b-obo-2' });
    expect(seenByApi.sort()).to.deep.equal(['Bearer user-a-obo-1', 'Bearer user-a-obo-2', 'Bearer user-b-obo-1', 'Bearer user-b-obo-2']);
    const byUser = (user: string) => exchanges.filter((e) => e.user_token === user).map((e) => e.skip_cache ?? false);
    expect(byUser('user-a')).to.deep.equal([false, true]);
    expect(byUser('user-b')).to.deep.equal([false, true]);
  });
});
