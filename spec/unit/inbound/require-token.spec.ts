import { expect } from 'chai';
import nock from 'nock';
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import sinon from 'sinon';
import { currentUserToken, inEndedUserContext } from '../../../lib/context/user-token.js';
import { TokenError } from '../../../lib/errors.js';
import { AuthError, isAuthError } from '../../../lib/inbound/auth-error.js';
import { fromApp, hasRole, hasScope } from '../../../lib/inbound/authorize.js';
import type { IntrospectionResult, TokenClaims, TokenValidator } from '../../../lib/inbound/introspection.js';
import { requireToken, requireTokenKoa, type RequestAuth } from '../../../lib/inbound/require-token.js';
import { fakeJwt } from '../../support/fake-jwt.js';
import { useNock } from '../../support/nock.js';

// requireToken() and requireTokenKoa() without a server: a request is an object with the headers
// the middleware reads, a response an EventEmitter (its `close` ends the user context), and Texas
// a stubbed validator given through the `introspection` option, or nock when the validator is the
// one the middleware makes from its own options.

const TOKEN = fakeJwt({ sub: 'alice' });
const CLAIMS: TokenClaims = Object.freeze({ sub: 'alice', roles: ['reader'], scp: 'read write', azp_name: 'dev-gcp:team:app' });

/** A promise with its resolve (Promise.withResolvers is not in Node 20). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

type Validate = (token: string) => Promise<IntrospectionResult>;

function validator(validate: Validate, identityProvider: TokenValidator['identityProvider'] = 'entra_id') {
  const stub = sinon.spy(validate);
  const value: TokenValidator = { identityProvider, endpoint: 'http://texas.test/api/v1/introspect', validate: stub, size: 0, clear() {} };
  return { value, validate: stub };
}

const active = () => validator(async () => ({ active: true, claims: CLAIMS }));

interface Req {
  headers: { authorization?: string | readonly string[] };
  auth?: RequestAuth;
}

/** What next() saw: its argument, and the user context it was called in. */
interface Passed {
  calls: number;
  error: unknown;
  token: string | undefined;
  /** Reads the current user token later, from a callback created in next()'s context. */
  later: () => Promise<{ token: string | undefined; ended: boolean }>;
}

/** Runs the Express middleware once and resolves when it calls next(). */
function run(middleware: ReturnType<typeof requireToken<Req>>, req: Req, res: unknown = new EventEmitter()): Promise<Passed> {
  return new Promise((resolve) => {
    const passed: Passed = { calls: 0, error: undefined, token: undefined, later: async () => ({ token: undefined, ended: false }) };
    middleware(req, res, (error?: unknown) => {
      passed.calls += 1;
      passed.error = error;
      passed.token = currentUserToken();
      // A promise chained in this context runs in it whenever it runs (a pooled connection's callback).
      const gate = deferred();
      const seen = gate.promise.then(() => ({ token: currentUserToken(), ended: inEndedUserContext() }));
      passed.later = () => {
        gate.resolve();
        return seen;
      };
      resolve(passed);
    });
  });
}

const withHeader = (authorization?: string | readonly string[]): Req => ({ headers: authorization === undefined ? {} : { authorization } });

function refusal(passed: Passed): AuthError {
  expect(isAuthError(passed.error), `next() got ${inspect(passed.error)}`).to.equal(true);
  return passed.error as AuthError;
}

function expectNoToken(error: unknown, token = TOKEN): void {
  expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(token);
  expect(JSON.stringify(error)).to.not.include(token);
  expect(String((error as Error).message)).to.not.include(token);
}

describe('requireToken()', () => {
  describe('the Bearer rule', () => {
    const refused: [string, string | readonly string[] | undefined][] = [
      ['no Authorization header', undefined],
      ['another scheme', `Basic ${TOKEN}`],
      ['Bearer alone', 'Bearer'],
      ['Bearer and spaces', 'Bearer   '],
      ['a tab after the scheme', `Bearer\t${TOKEN}`],
      ['a space inside the token', `Bearer ${TOKEN} extra`],
      ['two headers joined', `Bearer ${TOKEN}, Bearer ${TOKEN}`],
      ['two headers', [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]],
      ['no header in the array', []],
      ['a non-ASCII character', `Bearer ${TOKEN}é`],
      ['an over-long token', `Bearer ${'a'.repeat(16 * 1024 + 1)}`],
    ];
    for (const [name, authorization] of refused) {
      it(`${name}: 401 missing_token with WWW-Authenticate: Bearer, and Texas not asked`, async () => {
        const { value, validate } = active();
        const req = withHeader(authorization);
        const passed = await run(requireToken({ introspection: value }), req);
        const error = refusal(passed);
        expect(error).to.be.instanceOf(AuthError);
        expect(error.code).to.equal('missing_token');
        expect(error.status).to.equal(401);
        expect(error.headers).to.deep.equal({ 'WWW-Authenticate': 'Bearer' });
        expect(error.message).to.equal('no bearer token: expected Authorization: Bearer <token>');
        expect(validate.called).to.equal(false);
        expect(req.auth).to.equal(undefined);
        expect(passed.calls).to.equal(1);
      });
    }

    const accepted: [string, string | readonly string[]][] = [
      ['Bearer <token>', `Bearer ${TOKEN}`],
      ['the scheme in any case', `bEARER ${TOKEN}`],
      ['several spaces after the scheme', `Bearer    ${TOKEN}`],
      ['spaces and tabs around the value', ` \tBearer ${TOKEN}\t `],
      ['an array of one header', [`Bearer ${TOKEN}`]],
    ];
    for (const [name, authorization] of accepted) {
      it(`${name}: the bare token goes to the validator`, async () => {
        const { value, validate } = active();
        const passed = await run(requireToken({ introspection: value }), withHeader(authorization));
        expect(passed.error).to.equal(undefined);
        expect(validate.args).to.deep.equal([[TOKEN]]);
      });
    }
  });

  describe('a token Texas finds active', () => {
    it('calls next() once, with nothing, after setting req.auth to the frozen provider and claims', async () => {
      const { value } = validator(async () => ({ active: true, claims: CLAIMS }), 'tokenx');
      const req = withHeader(`Bearer ${TOKEN}`);
      const passed = await run(requireToken({ introspection: value }), req);
      expect(passed.calls).to.equal(1);
      expect(passed.error).to.equal(undefined);
      expect(req.auth).to.deep.equal({ identityProvider: 'tokenx', claims: CLAIMS });
      expect(req.auth?.claims).to.equal(CLAIMS);
      expect(Object.isFrozen(req.auth)).to.equal(true);
    });

    it("runs the rest of the request as the token's user, until the response closes", async () => {
      const res = new EventEmitter();
      const passed = await run(requireToken({ introspection: active().value }), withHeader(`Bearer ${TOKEN}`), res);
      expect(passed.token).to.equal(TOKEN);
      expect(res.listenerCount('close')).to.equal(1);
      res.emit('close');
      // Code that runs in the request's context after its response closed serves someone else.
      expect(await passed.later()).to.deep.equal({ token: undefined, ended: true });
      expect(currentUserToken()).to.equal(undefined);
    });

    it('keeps the context open while the response is open', async () => {
      const passed = await run(requireToken({ introspection: active().value }), withHeader(`Bearer ${TOKEN}`));
      expect(await passed.later()).to.deep.equal({ token: TOKEN, ended: false });
    });

    it('gives next() the error a later handler throws synchronously, as Express does', async () => {
      const thrown = new Error('handler broke');
      const nexts: unknown[] = [];
      const done = deferred();
      requireToken({ introspection: active().value })(withHeader(`Bearer ${TOKEN}`), new EventEmitter(), (error?: unknown) => {
        nexts.push(error);
        if (error === undefined) throw thrown;
        done.resolve();
      });
      await done.promise;
      expect(nexts).to.deep.equal([undefined, thrown]);
    });
  });

  describe('a token Texas refuses', () => {
    it('answers 401 invalid_token with WWW-Authenticate: Bearer error="invalid_token" and Texas\'s reason', async () => {
      const { value } = validator(async () => ({ active: false, reason: 'invalid token: ExpiredSignature' }));
      const req = withHeader(`Bearer ${TOKEN}`);
      const error = refusal(await run(requireToken({ introspection: value }), req));
      expect(error.code).to.equal('invalid_token');
      expect(error.status).to.equal(401);
      expect(error.headers).to.deep.equal({ 'WWW-Authenticate': 'Bearer error="invalid_token"' });
      expect(error.reason).to.equal('invalid token: ExpiredSignature');
      expect(error.message).to.equal('bearer token refused: invalid token: ExpiredSignature');
      expect(req.auth).to.equal(undefined);
      expectNoToken(error);
    });
  });

  describe('Texas could not answer', () => {
    const down = () => validator(async () => Promise.reject(new TokenError('timeout', 'introspection of a token (entra_id) timed out after 5000 ms (texas)')));

    it('answers 503 temporarily_unavailable with Retry-After 5 by default, never 401', async () => {
      const error = refusal(await run(requireToken({ introspection: down().value }), withHeader(`Bearer ${TOKEN}`)));
      expect(error.code).to.equal('temporarily_unavailable');
      expect(error.status).to.equal(503);
      expect(error.headers).to.deep.equal({ 'Retry-After': '5' });
      expect(error.retryAfter).to.equal(5_000);
      expect(error.message).to.equal('could not validate the bearer token: introspection of a token (entra_id) timed out after 5000 ms (texas)');
      expect(error.cause).to.be.instanceOf(TokenError);
      expectNoToken(error);
    });

    it('takes retryAfter in milliseconds and sends it in whole seconds, rounded up', async () => {
      const error = refusal(await run(requireToken({ introspection: down().value, retryAfter: 1_500 }), withHeader(`Bearer ${TOKEN}`)));
      expect(error.retryAfter).to.equal(1_500);
      expect(error.headers).to.deep.equal({ 'Retry-After': '2' });
    });

    it('sends no Retry-After with retryAfter 0', async () => {
      const error = refusal(await run(requireToken({ introspection: down().value, retryAfter: 0 }), withHeader(`Bearer ${TOKEN}`)));
      expect(error.status).to.equal(503);
      expect(error.headers).to.deep.equal({});
      expect(error).to.not.have.property('retryAfter');
    });

    it("does not repeat the message of an error that is not the package's own (it could hold anything)", async () => {
      const odd = new Error(`socket hang up while sending ${TOKEN}`);
      const { value } = validator(async () => Promise.reject(odd));
      const error = refusal(await run(requireToken({ introspection: value }), withHeader(`Bearer ${TOKEN}`)));
      expect(error.code).to.equal('temporarily_unavailable');
      expect(error.message).to.equal('could not validate the bearer token: the token could not be validated');
      expect(error.cause).to.equal(odd);
    });
  });

  describe('authorize', () => {
    const cases: [string, (claims: TokenClaims) => boolean, boolean][] = [
      ['hasRole with the role', hasRole('reader'), true],
      ['hasRole without it', hasRole('admin'), false],
      ['hasScope with both scopes', hasScope('read', 'write'), true],
      ['hasScope with one missing', hasScope('read', 'delete'), false],
      ['fromApp with the calling app', fromApp('dev-gcp:team:app'), true],
      ['fromApp with another', fromApp('dev-gcp:team:other'), false],
    ];
    for (const [name, authorize, allowed] of cases) {
      it(`${name}: ${allowed ? 'lets the request through' : '403 insufficient_scope'}`, async () => {
        const req = withHeader(`Bearer ${TOKEN}`);
        const passed = await run(requireToken({ introspection: active().value, authorize }), req);
        if (allowed) {
          expect(passed.error).to.equal(undefined);
          expect(req.auth?.claims).to.equal(CLAIMS);
          return;
        }
        const error = refusal(passed);
        expect(error.code).to.equal('insufficient_scope');
        expect(error.status).to.equal(403);
        expect(error.headers).to.deep.equal({ 'WWW-Authenticate': 'Bearer error="insufficient_scope"' });
        expect(error.message).to.equal('bearer token valid, but not allowed here');
        expect(req.auth).to.equal(undefined);
        expect(passed.token).to.equal(undefined);
      });
    }

    it('is given the claims and the request, and may answer asynchronously', async () => {
      const req = withHeader(`Bearer ${TOKEN}`);
      const authorize = sinon.spy(async (_claims: TokenClaims, _req: Req) => true);
      const passed = await run(requireToken<Req>({ introspection: active().value, authorize }), req);
      expect(passed.error).to.equal(undefined);
      expect(authorize.args).to.have.length(1);
      expect(authorize.args[0]?.[0]).to.equal(CLAIMS);
      expect(authorize.args[0]?.[1]).to.equal(req);
    });

    it('lets through only on true: a truthy answer that is not true is a 403', async () => {
      for (const answer of [1, 'yes', {}, undefined]) {
        const authorize = (() => answer) as unknown as () => boolean;
        const error = refusal(await run(requireToken({ introspection: active().value, authorize }), withHeader(`Bearer ${TOKEN}`)));
        expect(error.code, inspect(answer)).to.equal('insufficient_scope');
      }
    });

    it('is not asked about a token Texas refused', async () => {
      const authorize = sinon.spy(() => true);
      const { value } = validator(async () => ({ active: false, reason: 'no' }));
      const error = refusal(await run(requireToken({ introspection: value, authorize }), withHeader(`Bearer ${TOKEN}`)));
      expect(error.code).to.equal('invalid_token');
      expect(authorize.called).to.equal(false);
    });

    it('gives next() an authorize exception as it is', async () => {
      const thrown = new Error('policy store down');
      const passed = await run(
        requireToken({
          introspection: active().value,
          authorize: () => {
            throw thrown;
          },
        }),
        withHeader(`Bearer ${TOKEN}`),
      );
      expect(passed.error).to.equal(thrown);
    });
  });

  describe('options', () => {
    let saved: string | undefined;
    beforeEach(() => {
      saved = process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
      delete process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
      else process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT = saved;
    });

    it('refuses bad options at once, naming the option', () => {
      const bad: [unknown, RegExp][] = [
        ['options', /requireToken\(\) options/],
        [{ introspection: active().value, authorize: 'hasRole' }, /authorize/],
        [{ introspection: active().value, retryAfter: -1 }, /retryAfter/],
        [{ introspection: active().value, retryAfter: Number.NaN }, /retryAfter/],
        [{ introspection: {} }, /introspection.*a validator from introspection\(\)/],
        [{ introspection: null }, /introspection.*a validator from introspection\(\)/],
      ];
      for (const [options, message] of bad) {
        expect(() => requireToken(options as never), inspect(options)).to.throw(TypeError, message);
      }
      expect(() => requireToken({})).to.throw(TokenError, /^requireToken\(\): the introspection endpoint/);
    });

    it("refuses an identityProvider that differs from the validator's, and takes one that names the same", () => {
      const { value } = active();
      expect(() => requireToken({ introspection: value, identityProvider: 'tokenx' })).to.throw(
        TypeError,
        "axios-m2m: requireToken(): identityProvider tokenx differs from the validator's (entra_id)",
      );
      expect(() => requireToken({ introspection: value, identityProvider: 'azuread' })).to.not.throw();
      expect(() => requireToken({ introspection: value, identityProvider: 'entra_id' })).to.not.throw();
    });

    it('names requireTokenKoa() in the messages of the Koa middleware', () => {
      expect(() => requireTokenKoa({})).to.throw(TokenError, /requireTokenKoa\(\): the introspection endpoint/);
      expect(() => requireTokenKoa({ introspection: active().value, identityProvider: 'idporten' })).to.throw(
        TypeError,
        /requireTokenKoa\(\): identityProvider idporten/,
      );
    });
  });

  describe('with the validator made from its own options (Texas stubbed with nock)', () => {
    useNock();
    const ORIGIN = 'http://127.0.0.1:7166';
    const PATH = '/api/v1/introspect';

    it('asks Texas at the endpoint for the identityProvider named, and puts that provider on req.auth', async () => {
      const scope = nock(ORIGIN)
        .post(PATH, { identity_provider: 'tokenx', token: TOKEN })
        .reply(200, { active: true, sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 });
      const req = withHeader(`Bearer ${TOKEN}`);
      const passed = await run(requireToken({ endpoint: `${ORIGIN}${PATH}`, identityProvider: 'tokenx' }), req);
      expect(passed.error).to.equal(undefined);
      expect(req.auth?.identityProvider).to.equal('tokenx');
      expect(req.auth?.claims.sub).to.equal('alice');
      expect(scope.isDone()).to.equal(true);
    });

    it('carries the token in no refusal, even when Texas echoes it', async () => {
      const middleware = requireToken({ endpoint: `${ORIGIN}${PATH}`, retries: 0 });
      nock(ORIGIN)
        .post(PATH)
        .reply(200, { active: false, error: `token ${TOKEN} has expired` });
      const invalid = refusal(await run(middleware, withHeader(`Bearer ${TOKEN}`)));
      expect(invalid.code).to.equal('invalid_token');
      expectNoToken(invalid);
      const other = fakeJwt({ sub: 'bob' });
      nock(ORIGIN).post(PATH).reply(500, `internal error validating ${other}`);
      const unavailable = refusal(await run(middleware, withHeader(`Bearer ${other}`)));
      expect(unavailable.code).to.equal('temporarily_unavailable');
      expect(unavailable.status).to.equal(503);
      expectNoToken(unavailable, other);
    });
  });
});

describe('requireTokenKoa()', () => {
  function context(authorization?: string, state?: Record<string, unknown>) {
    const res = new EventEmitter();
    return { headers: authorization === undefined ? {} : { authorization }, res, ...(state !== undefined && { state }) } as {
      headers: { authorization?: string };
      res: EventEmitter;
      state?: Record<string, unknown>;
    };
  }

  it("sets ctx.state.auth, runs next() as the token's user until ctx.res closes, and returns next()'s result", async () => {
    const ctx = context(`Bearer ${TOKEN}`);
    let inside: string | undefined;
    const gate = deferred();
    let later: Promise<{ token: string | undefined; ended: boolean }> | undefined;
    const result = await requireTokenKoa({ introspection: active().value })(ctx, async () => {
      inside = currentUserToken();
      later = gate.promise.then(() => ({ token: currentUserToken(), ended: inEndedUserContext() }));
      return 'downstream';
    });
    expect(result).to.equal('downstream');
    expect(inside).to.equal(TOKEN);
    expect(ctx.state?.auth).to.deep.equal({ identityProvider: 'entra_id', claims: CLAIMS });
    expect(Object.isFrozen(ctx.state?.auth)).to.equal(true);
    ctx.res.emit('close');
    gate.resolve();
    expect(await later).to.deep.equal({ token: undefined, ended: true });
  });

  it('keeps what ctx.state already holds', async () => {
    const ctx = context(`Bearer ${TOKEN}`, { user: 'kept' });
    await requireTokenKoa({ introspection: active().value })(ctx, async () => undefined);
    expect(ctx.state).to.deep.equal({ user: 'kept', auth: { identityProvider: 'entra_id', claims: CLAIMS } });
  });

  it('throws the AuthError of a refusal, without calling next()', async () => {
    const next = sinon.spy(async () => undefined);
    const cases: [string | undefined, TokenValidator, string][] = [
      [undefined, active().value, 'missing_token'],
      [`Bearer ${TOKEN}`, validator(async () => ({ active: false, reason: 'expired' })).value, 'invalid_token'],
      [`Bearer ${TOKEN}`, validator(async () => Promise.reject(new TokenError('network', 'down'))).value, 'temporarily_unavailable'],
    ];
    for (const [authorization, introspection, code] of cases) {
      const ctx = context(authorization);
      const error = await requireTokenKoa({ introspection })(ctx, next).then(
        () => expect.fail('resolved'),
        (e: unknown) => e as AuthError,
      );
      expect(isAuthError(error), code).to.equal(true);
      expect(error.code).to.equal(code);
      expect(ctx.state).to.equal(undefined);
      expectNoToken(error);
    }
    expect(next.called).to.equal(false);
  });

  it('gives authorize the claims and the context', async () => {
    const ctx = context(`Bearer ${TOKEN}`);
    const authorize = sinon.spy((_claims: TokenClaims, _ctx: unknown) => false);
    const error = await requireTokenKoa({ introspection: active().value, authorize })(ctx, async () => undefined).then(
      () => expect.fail('resolved'),
      (e: unknown) => e as AuthError,
    );
    expect(error.code).to.equal('insufficient_scope');
    expect(authorize.args[0]?.[0]).to.equal(CLAIMS);
    expect(authorize.args[0]?.[1]).to.equal(ctx);
  });
});
