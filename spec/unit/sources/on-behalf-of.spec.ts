import { expect } from 'chai';
import { inspect } from 'node:util';
import axios from 'axios';
import nock from 'nock';
import sinon from 'sinon';
import { UnsecuredJWT } from 'jose';
import { onBehalfOf, cacheKeyOf, DEFAULT_MAX_USERS } from '../../../lib/sources/on-behalf-of.js';
import { withRequestUserToken, withUserToken } from '../../../lib/context/user-token.js';
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { TokenError } from '../../../lib/errors.js';
import { TokenClient } from '../../../lib/http/token-client.js';
import { TokenStore } from '../../../lib/cache/token-store.js';
import { useNock } from '../../support/nock.js';

const ORIGIN = 'http://127.0.0.1:7164';
const PATH = '/api/v1/token/exchange';
const ENDPOINT = `${ORIGIN}${PATH}`;
const SCOPE = 'api://dev-gcp.team.other-api/.default';
const OTHER_SCOPE = 'api://dev-gcp.team.third-api/.default';

interface ExchangeBody {
  identity_provider: string;
  target: string;
  user_token: string;
  skip_cache?: boolean;
}

/** A Texas exchange stand-in: answers `obo(<user_token>, <target>)#n` and records every body. */
function exchangeReplies(times: number, expiresIn = 3599): ExchangeBody[] {
  const bodies: ExchangeBody[] = [];
  nock(ORIGIN)
    .post(PATH, (b) => (bodies.push(b as ExchangeBody), true))
    .times(times)
    .reply(200, (_uri, body) => {
      const b = body as ExchangeBody;
      return { access_token: `obo(${b.user_token},${b.target})#${bodies.length}`, expires_in: expiresIn, token_type: 'Bearer' };
    });
  return bodies;
}

/** An unsigned JWT with the given `exp` (seconds): onBehalfOf only decodes it, Texas verifies. */
function userJwt(sub: string, expSeconds: number): string {
  return new UnsecuredJWT({ sub }).setExpirationTime(expSeconds).encode();
}

describe('onBehalfOf()', () => {
  useNock();

  it('posts identity_provider entra_id, the scope as target and the user token to the exchange endpoint', async () => {
    const bodies = exchangeReplies(1);
    const before = Date.now();
    const token = await withUserToken('user-a', () => onBehalfOf({ endpoint: ENDPOINT }).getToken(SCOPE));
    expect(bodies).to.deep.equal([{ identity_provider: 'entra_id', target: SCOPE, user_token: 'user-a' }]);
    expect(token.token).to.equal(`obo(user-a,${SCOPE})#1`);
    expect(token.expiresAt).to.be.within(before + 3_598_000, Date.now() + 3_598_000); // less the second the server may have rounded away
  });

  it('defaults to NAIS_TOKEN_EXCHANGE_ENDPOINT', async () => {
    const saved = process.env.NAIS_TOKEN_EXCHANGE_ENDPOINT;
    process.env.NAIS_TOKEN_EXCHANGE_ENDPOINT = ENDPOINT;
    try {
      const bodies = exchangeReplies(1);
      const token = await withUserToken('user-a', () => onBehalfOf().getToken(SCOPE));
      // Posted to the variable's endpoint (the only one nock answers), and its answer served.
      expect(bodies).to.deep.equal([{ identity_provider: 'entra_id', target: SCOPE, user_token: 'user-a' }]);
      expect(token.token).to.equal(`obo(user-a,${SCOPE})#1`);
    } finally {
      if (saved === undefined) delete process.env.NAIS_TOKEN_EXCHANGE_ENDPOINT;
      else process.env.NAIS_TOKEN_EXCHANGE_ENDPOINT = saved;
    }
  });

  it('strips a Bearer prefix from the user token before sending it (Texas does not)', async () => {
    const bodies = exchangeReplies(2);
    const source = onBehalfOf({ endpoint: ENDPOINT });
    await withUserToken('Bearer user-a', () => source.getToken(SCOPE));
    await withUserToken('bearer   user-b ', () => source.getToken(SCOPE));
    expect(bodies.map((b) => b.user_token)).to.deep.equal(['user-a', 'user-b']);
  });

  it('shares one cache entry for a token given with and without the prefix', async () => {
    exchangeReplies(1);
    const source = onBehalfOf({ endpoint: ENDPOINT });
    const first = await withUserToken('Bearer user-a', () => source.getToken(SCOPE));
    const second = await withUserToken('user-a', () => source.getToken(SCOPE));
    expect(second).to.equal(first);
  });

  it('exchanges for TokenX with a cluster:namespace:app target', async () => {
    const bodies = exchangeReplies(1);
    await withUserToken('user-a', () => onBehalfOf({ endpoint: ENDPOINT, identityProvider: 'tokenx' }).getToken('dev-gcp:team:other-api'));
    expect(bodies).to.deep.equal([{ identity_provider: 'tokenx', target: 'dev-gcp:team:other-api', user_token: 'user-a' }]);
  });

  it('can send a form body', async () => {
    let raw = '';
    nock(ORIGIN)
      .post(PATH, (b) => ((raw = new URLSearchParams(b as Record<string, string>).toString()), true))
      .matchHeader('content-type', /^application\/x-www-form-urlencoded/)
      .reply(200, { access_token: 't', expires_in: 60, token_type: 'Bearer' });
    await withUserToken('user-a', () => onBehalfOf({ endpoint: ENDPOINT, bodyFormat: 'form' }).getToken(SCOPE));
    expect(raw).to.equal(new URLSearchParams({ identity_provider: 'entra_id', target: SCOPE, user_token: 'user-a' }).toString());
  });

  it('sends skip_cache: true only on a forced refresh, with the same user token', async () => {
    const bodies = exchangeReplies(2);
    const source = onBehalfOf({ endpoint: ENDPOINT });
    await withUserToken('user-a', async () => {
      await source.getToken(SCOPE);
      await source.getToken(SCOPE); // cached
      expect((await source.getToken(SCOPE, { forceRefresh: true })).token).to.equal(`obo(user-a,${SCOPE})#2`);
    });
    expect(bodies).to.deep.equal([
      { identity_provider: 'entra_id', target: SCOPE, user_token: 'user-a' },
      { identity_provider: 'entra_id', target: SCOPE, user_token: 'user-a', skip_cache: true },
    ]);
  });

  it('caches per (user, scope): a user and scope seen before makes no request, anything new does', async () => {
    const bodies = exchangeReplies(3);
    const source = onBehalfOf({ endpoint: ENDPOINT });
    const a1 = await withUserToken('user-a', () => source.getToken(SCOPE));
    const b1 = await withUserToken('user-b', () => source.getToken(SCOPE));
    const a2 = await withUserToken('user-a', () => source.getToken(OTHER_SCOPE));
    expect(await withUserToken('user-a', () => source.getToken(SCOPE))).to.equal(a1);
    expect(await withUserToken('user-b', () => source.getToken(SCOPE))).to.equal(b1);
    expect(await withUserToken('user-a', () => source.getToken(OTHER_SCOPE))).to.equal(a2);
    expect(bodies.map((b) => [b.user_token, b.target])).to.deep.equal([
      ['user-a', SCOPE],
      ['user-b', SCOPE],
      ['user-a', OTHER_SCOPE],
    ]);
    expect(source.size).to.equal(3);
  });

  it('shares one exchange between concurrent calls of one user, and none between users', async () => {
    const bodies = exchangeReplies(2);
    const source = onBehalfOf({ endpoint: ENDPOINT });
    const tokens = await Promise.all(['user-a', 'user-b', 'user-a', 'user-b', 'user-a'].map((user) => withUserToken(user, () => source.getToken(SCOPE))));
    expect(bodies.map((b) => b.user_token).sort()).to.deep.equal(['user-a', 'user-b']);
    expect(tokens.map((t) => t.token.slice(0, 10))).to.deep.equal(['obo(user-a', 'obo(user-b', 'obo(user-a', 'obo(user-b', 'obo(user-a']);
  });

  it('keys the cache by a digest: no user token in the key, distinct per user and per scope', () => {
    const token = userJwt('someone', Math.floor(Date.now() / 1000) + 3600);
    const key = cacheKeyOf(token, SCOPE);
    expect(key).to.match(/^[\w-]{22}$/);
    expect(key).not.to.include(token.slice(0, 16));
    expect(cacheKeyOf(token, OTHER_SCOPE)).not.to.equal(key);
    expect(cacheKeyOf(`${token}x`, SCOPE)).not.to.equal(key);
    // No separator ambiguity: ("ab", "c") and ("a", "bc") differ.
    expect(cacheKeyOf('ab', 'c')).not.to.equal(cacheKeyOf('a', 'bc'));
  });

  it('keys its cache by cacheKeyOf(user token, scope): the raw user token is never a key', async () => {
    exchangeReplies(2);
    const lookup = sinon.spy(TokenStore.prototype, 'lookup');
    const set = sinon.spy(TokenStore.prototype, 'set');
    try {
      const source = onBehalfOf({ endpoint: ENDPOINT });
      const users = ['raw-user-token-a', 'raw-user-token-b'];
      for (const user of users) await withUserToken(user, () => source.getToken(SCOPE));
      for (const user of users) await withUserToken(user, () => source.getToken(SCOPE)); // hits
      const digests = users.map((user) => cacheKeyOf(user, SCOPE));
      expect(set.args.map(([key]) => key)).to.deep.equal(digests);
      expect(lookup.args.map(([key]) => key)).to.deep.equal([...digests, ...digests]);
      expect(inspect(source, { depth: Infinity, showHidden: true })).not.to.include('raw-user-token');
    } finally {
      lookup.restore();
      set.restore();
    }
  });

  it('refuses a scope that is not a string with a TypeError, before the cache key is computed and without a request', async () => {
    const source = onBehalfOf({ endpoint: ENDPOINT });
    for (const scope of [42, { scope: SCOPE }, undefined, null]) {
      const pending = withUserToken('user-a', () => source.getToken(scope as never));
      expect(pending).to.be.instanceOf(Promise);
      const error = await pending.then(
        () => expect.fail('resolved'),
        (e: unknown) => e as Error,
      );
      expect(error).to.be.instanceOf(TypeError);
      expect(error.message).to.match(/^axios-m2m: expected scope to be a non-empty string without whitespace, got /);
    }
    expect(source.size).to.equal(0);
  });

  it("expires a cached token no later than the user's own token, plus Texas's 60 s of leeway", async () => {
    exchangeReplies(1, 3599);
    const exp = Math.floor(Date.now() / 1000) + 600; // the user's token: 10 minutes left
    const token = await withUserToken(userJwt('u', exp), () => onBehalfOf({ endpoint: ENDPOINT }).getToken(SCOPE));
    expect(token.expiresAt).to.equal(exp * 1000 + 60_000);
  });

  it("exchanges a user token just past its exp (inside Texas's leeway) once, not on every request", async () => {
    const bodies = exchangeReplies(1, 3599); // a second exchange would find no reply and fail
    const source = onBehalfOf({ endpoint: ENDPOINT });
    const user = userJwt('u', Math.floor(Date.now() / 1000) - 10); // 10 s past exp: Texas still exchanges it
    for (let i = 0; i < 3; i++) await withUserToken(user, () => source.getToken(SCOPE));
    expect(bodies).to.have.length(1);
  });

  it("keeps Texas's expiry when it is earlier than the user's, or the user token is not a JWT", async () => {
    exchangeReplies(2, 300);
    const source = onBehalfOf({ endpoint: ENDPOINT });
    const before = Date.now();
    const jwt = await withUserToken(userJwt('u', Math.floor(Date.now() / 1000) + 3600), () => source.getToken(SCOPE));
    const opaque = await withUserToken('opaque-user-token', () => source.getToken(SCOPE));
    for (const t of [jwt, opaque]) expect(t.expiresAt).to.be.within(before + 299_000, Date.now() + 299_000); // expires_in less its rounded second
  });

  it("does not serve a token once the user token is past its exp and Texas's leeway", async () => {
    const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    try {
      const bodies = exchangeReplies(2, 3599);
      const source = onBehalfOf({ endpoint: ENDPOINT });
      const exp = Math.floor(Date.now() / 1000) + 120; // the user token: 1-2 minutes left
      const user = userJwt('u', exp);
      await withUserToken(user, () => source.getToken(SCOPE));
      clock.setSystemTime(exp * 1000 - 13_000); // still served (margin: a tenth of the lifetime)
      await withUserToken(user, () => source.getToken(SCOPE));
      expect(bodies).to.have.length(1);
      clock.setSystemTime(exp * 1000 + 60_000); // past Texas's leeway too
      await withUserToken(user, () => source.getToken(SCOPE));
      expect(bodies).to.have.length(2);
    } finally {
      clock.restore();
    }
  });

  describe("the request's own user, options.user (token: { user })", () => {
    it('wins over the async context, for the exchange and for the cache key', async () => {
      const bodies = exchangeReplies(2);
      const source = onBehalfOf({ endpoint: ENDPOINT });
      const a = await withUserToken('user-b', () => source.getToken(SCOPE, { user: 'Bearer user-a' }));
      expect(a.token).to.equal(`obo(user-a,${SCOPE})#1`);
      // Cached under user-a: user-a's context gets it without an exchange; user-b gets its own.
      expect((await withUserToken('user-a', () => source.getToken(SCOPE))).token).to.equal(a.token);
      expect((await withUserToken('user-b', () => source.getToken(SCOPE))).token).to.equal(`obo(user-b,${SCOPE})#2`);
      expect(bodies.map((b) => b.user_token)).to.deep.equal(['user-a', 'user-b']);
    });

    it('works outside any context and in the context of a request that has ended', async () => {
      exchangeReplies(1);
      const source = onBehalfOf({ endpoint: ENDPOINT });
      const res = new EventEmitter();
      const callback = withRequestUserToken('user-b', res, () => AsyncResource.bind(() => source.getToken(SCOPE, { user: 'user-a' })));
      res.emit('close');
      expect((await callback()).token).to.equal(`obo(user-a,${SCOPE})#1`);
      expect((await source.getToken(SCOPE, { user: 'user-a' })).token).to.equal(`obo(user-a,${SCOPE})#1`);
    });

    it('an empty one is no_user_token, never a fall-back to the context; a non-string a TypeError', async () => {
      const source = onBehalfOf({ endpoint: ENDPOINT });
      const error = await withUserToken('user-b', () => source.getToken(SCOPE, { user: 'Bearer ' })).catch((e: unknown) => e);
      expect(error).to.include({ code: 'no_user_token' });
      expect((error as Error).message).to.include('the user given with the request (token: { user }) is empty');
      const typeError = await withUserToken('user-b', () => source.getToken(SCOPE, { user: 7 as never })).catch((e: unknown) => e);
      expect(typeError).to.be.instanceOf(TypeError);
      expect(source.size).to.equal(0);
    });

    it('through attachToken: the request option reaches the source, and its 401 retry is for the same user', async () => {
      const bodies = exchangeReplies(2);
      const seen: string[] = [];
      nock('http://127.0.0.1:7777')
        .get('/me')
        .times(2)
        .reply(function () {
          seen.push(String(this.req.headers.authorization));
          return seen.length === 1 ? [401, 'refused'] : [200, 'ok'];
        });
      const api = axios.create({ baseURL: 'http://127.0.0.1:7777' });
      attachToken(api, { source: onBehalfOf({ endpoint: ENDPOINT }), scope: SCOPE });
      const response = await withUserToken('user-b', () => api.get('/me', { token: { user: 'user-a' } }));
      expect(response.data).to.equal('ok');
      expect(bodies.map((b) => [b.user_token, b.skip_cache ?? false])).to.deep.equal([
        ['user-a', false],
        ['user-a', true],
      ]);
      expect(seen).to.deep.equal([`Bearer obo(user-a,${SCOPE})#1`, `Bearer obo(user-a,${SCOPE})#2`]);
    });
  });

  describe('without a user token', () => {
    it('rejects with no_user_token before any request leaves', async () => {
      // No nock interceptor: a request would fail with code network, not no_user_token.
      const source = onBehalfOf({ endpoint: ENDPOINT });
      const error = await source.getToken(SCOPE).then(
        () => expect.fail('resolved'),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(TokenError);
      expect(error).to.include({ code: 'no_user_token', scope: SCOPE, endpoint: ENDPOINT });
      expect((error as Error).message).to.match(/^token exchange for api:\/\/dev-gcp\.team\.other-api\/\.default needs the user's token/);
      expect(source.size).to.equal(0);
    });

    it('rejects inside a context whose token is empty, and returns a promise rather than throwing', async () => {
      const source = onBehalfOf({ endpoint: ENDPOINT });
      const pending = withUserToken('Bearer ', () => source.getToken(SCOPE));
      expect(pending).to.be.instanceOf(Promise);
      await pending.then(
        () => expect.fail('resolved'),
        (e: unknown) => expect(e).to.include({ code: 'no_user_token' }),
      );
    });

    it("rejects in the context of a request that has ended, naming that cause, and never exchanges that request's token", async () => {
      // No nock interceptor: an exchange would fail with code network.
      const source = onBehalfOf({ endpoint: ENDPOINT });
      const res = new EventEmitter();
      // A callback of a connection opened during that request: it runs in that request's context.
      const callback = withRequestUserToken('user-b', res, () => AsyncResource.bind(() => source.getToken(SCOPE)));
      res.emit('close');
      const error = await callback().then(
        () => expect.fail('resolved'),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(TokenError);
      expect(error).to.include({ code: 'no_user_token', scope: SCOPE, endpoint: ENDPOINT });
      const { message } = error as Error;
      expect(message).to.match(
        /^token exchange for api:\/\/dev-gcp\.team\.other-api\/\.default needs the user's token, and the user context here belongs to a request that has ended/,
      );
      expect(message).to.include('AsyncResource.bind()');
      expect(message).to.not.include('\n');
      expect(message).to.not.include('user-b');
      expect(source.size).to.equal(0);
    });

    it('fails the axios request with the TokenError, and sends nothing to the API', async () => {
      const api = axios.create({ baseURL: 'http://127.0.0.1:9/' });
      attachToken(api, { source: onBehalfOf({ endpoint: ENDPOINT }), scope: SCOPE });
      const error = await api.get('/things').then(
        () => expect.fail('resolved'),
        (e: unknown) => e,
      );
      expect(error).to.include({ code: 'no_user_token' });
    });
  });

  it("surfaces Texas's passthrough error for an expired user token as a TokenError with its status and code, without the token", async () => {
    const expired = userJwt('u', Math.floor(Date.now() / 1000) - 60);
    nock(ORIGIN)
      .post(PATH)
      .reply(400, {
        error: 'invalid_grant',
        // Providers may echo what they refused: it must be scrubbed.
        error_description: `AADSTS500133: Assertion is not within its valid time range. token=${expired}`,
      });
    const error = await withUserToken(expired, () => onBehalfOf({ endpoint: ENDPOINT, retries: 0 }).getToken(SCOPE)).then(
      () => expect.fail('resolved'),
      (e: unknown) => e as TokenError,
    );
    expect(error).to.be.instanceOf(TokenError);
    expect(error).to.include({ code: 'invalid_grant', status: 400, scope: SCOPE });
    expect(error.message).to.match(/failed: 400 invalid_grant: AADSTS500133/);
    expect(inspect(error, { depth: Infinity })).not.to.include(expired);
    expect(JSON.stringify(error)).not.to.include(expired);
  });

  describe('the cache bound', () => {
    it('keeps at most maxEntries users, evicting the oldest', async () => {
      const bodies = exchangeReplies(5);
      const source = onBehalfOf({ endpoint: ENDPOINT, maxEntries: 3 });
      for (const user of ['u1', 'u2', 'u3', 'u4']) await withUserToken(user, () => source.getToken(SCOPE));
      expect(source.size).to.equal(3);
      await withUserToken('u4', () => source.getToken(SCOPE)); // kept
      await withUserToken('u2', () => source.getToken(SCOPE)); // kept
      await withUserToken('u1', () => source.getToken(SCOPE)); // evicted: exchanged again
      expect(bodies.map((b) => b.user_token)).to.deep.equal(['u1', 'u2', 'u3', 'u4', 'u1']);
      expect(source.size).to.equal(3);
    });

    it(`defaults to ${DEFAULT_MAX_USERS} entries`, async () => {
      // The endpoint is not what this is about: a stubbed client keeps a thousand exchanges fast.
      const post = sinon.stub(TokenClient.prototype, 'post').callsFake(async () => ({ token: 't', expiresAt: Date.now() + 3_600_000 }));
      try {
        const source = onBehalfOf({ endpoint: ENDPOINT });
        for (let i = 0; i <= DEFAULT_MAX_USERS; i++) await withUserToken(`user-${i}`, () => source.getToken(SCOPE));
        expect(source.size).to.equal(DEFAULT_MAX_USERS);
        expect(post.callCount).to.equal(DEFAULT_MAX_USERS + 1);
      } finally {
        post.restore();
      }
    });
  });

  describe('options', () => {
    it('checks them when created', () => {
      expect(() => onBehalfOf({ endpoint: ENDPOINT, identityProvider: 'maskinporten' as never })).to.throw(
        TypeError,
        'axios-m2m: expected identityProvider to be one of entra_id, azuread, tokenx, got "maskinporten"',
      );
      expect(() => onBehalfOf({ endpoint: ENDPOINT, maxEntries: 0 })).to.throw(TypeError, /maxEntries/);
      expect(() => onBehalfOf({ endpoint: ENDPOINT, bodyFormat: 'xml' as never })).to.throw(TypeError, /bodyFormat/);
      expect(() => onBehalfOf({ endpoint: 'http://texas.example/api/v1/token/exchange' })).to.throw(TokenError, /plain http/);
    });

    it('throws a configuration TokenError naming NAIS_TOKEN_EXCHANGE_ENDPOINT when there is no endpoint', () => {
      const saved = process.env.NAIS_TOKEN_EXCHANGE_ENDPOINT;
      delete process.env.NAIS_TOKEN_EXCHANGE_ENDPOINT;
      try {
        expect(() => onBehalfOf())
          .to.throw(TokenError, /NAIS_TOKEN_EXCHANGE_ENDPOINT/)
          .with.property('code', 'configuration');
      } finally {
        if (saved !== undefined) process.env.NAIS_TOKEN_EXCHANGE_ENDPOINT = saved;
      }
    });
  });
});
