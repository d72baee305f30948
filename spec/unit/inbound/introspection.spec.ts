import { expect } from 'chai';
import nock from 'nock';
import { inspect } from 'node:util';
import sinon from 'sinon';
import { TokenError } from '../../../lib/errors.js';
import { introspection, type IntrospectionOptions } from '../../../lib/inbound/introspection.js';
import { useNock } from '../../support/nock.js';
import { cases, SECRET as CORPUS_SECRET, type Reply } from '../../support/corpus-cases.js';
import { fakeJwt } from '../../support/fake-jwt.js';

// The bad-input corpus (corpus-cases.ts) through introspection(): whatever sits at Texas's
// introspection endpoint answers, validate() ends in a clear TokenError (never a crash, an
// unhandled rejection, an "active" verdict or a kept result), and the next good answer works. The
// token being validated plays the secret: it is in no error.
//
// What introspection expects: a 200 answer must be {"active": true|false, ...}; no row of the
// corpus is one, so every 200 row is a bad_response here (the token endpoint's "ok" rows too).
// Error answers go through the same TokenClient as the sources, hence the same codes.

const ORIGIN = 'http://127.0.0.1:7164';
const PATH = '/api/v1/introspect';
// The corpus's secret inside a token of the shape introspection() sends to Texas at all.
const SECRET = fakeJwt({ jti: CORPUS_SECRET });
const GOOD = { active: true, sub: 'good-user', exp: Math.floor(Date.now() / 1000) + 3600 };

/** Rows of answers only introspection can get wrong. */
const introspectionCases: { name: string; reply: Reply }[] = [
  { name: 'active "true" (a string)', reply: { status: 200, body: { active: 'true', sub: 'x' } } },
  { name: 'active 1', reply: { status: 200, body: { active: 1, sub: 'x' } } },
  { name: 'active null', reply: { status: 200, body: { active: null } } },
  { name: 'no active field, only claims', reply: { status: 200, body: { sub: 'x', exp: 1 } } },
  { name: 'an array of one answer', reply: { status: 200, body: [{ active: true }] } },
  { name: 'active in a nested object', reply: { status: 200, body: { result: { active: true } } } },
];

describe('bad answers from the introspection endpoint (the corpus, through introspection())', () => {
  useNock();
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled, 'unhandled rejections during the corpus').to.deep.equal([]);
  });

  const rows = [...cases.map((c) => ({ name: c.name, reply: c.reply, code: c.code })), ...introspectionCases.map((c) => ({ ...c, code: 'bad_response' }))];
  for (const row of rows) {
    const reply = () => (typeof row.reply === 'function' ? row.reply() : row.reply);
    const expected = reply().status === 200 ? 'bad_response' : row.code;
    it(`${row.name}: TokenError ${expected}, nothing kept, and the next good answer works`, async () => {
      const { status, body, headers } = reply();
      nock(ORIGIN)
        .post(PATH)
        .reply(status, typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json', ...headers });
      const validator = introspection({ endpoint: `${ORIGIN}${PATH}`, retries: 0 });
      const error = await validator.validate(SECRET).then(
        (result) => expect.fail(`resolved ${JSON.stringify(result)}`),
        (e: unknown) => e as TokenError,
      );
      expect(error).to.be.instanceOf(TokenError);
      expect(error.code).to.equal(expected);
      expect(error.message).to.match(/^introspection of a token \(entra_id\) failed: /);
      expect(error.message).to.not.match(/[\r\n]/);
      expect(error.message.length).to.be.below(600);
      expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(SECRET);
      expect(JSON.stringify(error)).to.not.include(SECRET);
      expect(validator.size).to.equal(0);
      nock(ORIGIN).post(PATH).reply(200, GOOD);
      expect(await validator.validate(SECRET)).to.deep.equal({ active: true, claims: { sub: 'good-user', exp: GOOD.exp } });
    });
  }
});

// What introspection() keeps and for how long, on a faked clock: Date (the token's exp is epoch
// time) and performance.now() (maxAge and inactiveTtl run on the monotonic clock) move together
// with tick(), and setSystemTime() steps the wall clock alone, as NTP or a VM restore does.
describe('introspection(): what it keeps, and for how long', () => {
  useNock();
  const NOW = 1_700_000_000_000;
  const endpoint = `${ORIGIN}${PATH}`;
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date', 'performance'] });
  });
  afterEach(() => clock.restore());

  const activeFor = (token: string) => ({
    active: true,
    sub: 'alice',
    exp: (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }).exp,
  });

  it('serves an active result for maxAge on the monotonic clock, whatever the wall clock does', async () => {
    const token = fakeJwt({ sub: 'alice' });
    const validator = introspection({ endpoint, maxAge: 60_000 });
    nock(ORIGIN).post(PATH).reply(200, activeFor(token));
    expect((await validator.validate(token)).active).to.equal(true);
    clock.setSystemTime(NOW - 3_600_000); // the wall clock steps an hour back
    clock.tick(59_999);
    expect((await validator.validate(token)).active, 'from memory').to.equal(true);
    clock.tick(1);
    nock(ORIGIN).post(PATH).reply(200, { active: false, error: 'invalid token: revoked key' });
    expect(await validator.validate(token)).to.deep.equal({ active: false, reason: 'invalid token: revoked key' });
  });

  it("serves an active result no later than the token's exp less expiryMargin", async () => {
    const token = fakeJwt({ exp: NOW / 1000 + 20 });
    const validator = introspection({ endpoint });
    nock(ORIGIN).post(PATH).reply(200, activeFor(token));
    await validator.validate(token);
    clock.tick(14_999);
    expect((await validator.validate(token)).active, 'from memory').to.equal(true);
    clock.tick(1);
    nock(ORIGIN).post(PATH).reply(200, activeFor(token));
    expect((await validator.validate(token)).active).to.equal(true);
  });

  it("stops serving an active result once the wall clock passes the token's exp, as Texas reads it", async () => {
    const token = fakeJwt({ sub: 'alice' });
    const validator = introspection({ endpoint });
    nock(ORIGIN).post(PATH).reply(200, activeFor(token));
    await validator.validate(token);
    clock.setSystemTime(NOW + 2 * 3_600_000); // the wall clock steps two hours on; the monotonic one does not
    expect(await validator.validate(token)).to.deep.equal({ active: false, reason: 'token expired: exp more than 60 s past' });
  });

  it('serves a refusal for inactiveTtl only (5 s by default), on the monotonic clock', async () => {
    const token = fakeJwt({ sub: 'mallory' });
    const validator = introspection({ endpoint });
    nock(ORIGIN).post(PATH).reply(200, { active: false, error: 'invalid token: ExpiredSignature' });
    await validator.validate(token);
    clock.setSystemTime(NOW + 3_600_000); // a wall-clock step forward ends nothing early
    clock.tick(4_999);
    expect(await validator.validate(token), 'from memory').to.deep.equal({ active: false, reason: 'invalid token: ExpiredSignature' });
    expect(validator.size).to.equal(1);
    clock.tick(1);
    nock(ORIGIN)
      .post(PATH)
      .reply(200, activeFor(fakeJwt({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 3600 })));
    expect((await validator.validate(token)).active).to.equal(true);
  });

  it('keeps no refusal with inactiveTtl 0', async () => {
    const token = fakeJwt({ sub: 'mallory' });
    const validator = introspection({ endpoint, inactiveTtl: 0 });
    nock(ORIGIN).post(PATH).times(2).reply(200, { active: false, error: 'no' });
    await validator.validate(token);
    await validator.validate(token);
    expect(validator.size).to.equal(0);
  });

  it('asks Texas once for concurrent validations of one token', async () => {
    const token = fakeJwt({ sub: 'alice' });
    const validator = introspection({ endpoint });
    nock(ORIGIN).post(PATH).reply(200, activeFor(token));
    const [a, b, c] = await Promise.all([validator.validate(token), validator.validate(token), validator.validate(token)]);
    expect(a).to.deep.equal({ active: true, claims: { sub: 'alice', exp: activeFor(token).exp } });
    expect(b).to.equal(a);
    expect(c).to.equal(a);
  });

  it('refuses a token without the shape of one before any request, and keeps nothing for it', async () => {
    const validator = introspection({ endpoint });
    const cases: [string, string][] = [
      [fakeJwt({ exp: undefined }), 'token has no numeric exp'],
      [fakeJwt({ exp: NOW / 1000 - 61 }), 'token expired: exp more than 60 s past'],
      [fakeJwt({}, { kid: undefined }), 'not a JWS: the header has no kid'],
      ['not.a-token', 'not a JWS: expected three base64url parts'],
      ['two words', 'malformed token'],
    ];
    for (const [token, reason] of cases) expect(await validator.validate(token), reason).to.deep.equal({ active: false, reason });
    expect(validator.size).to.equal(0);
  });
});

describe('introspection(): its options', () => {
  const endpoint = `${ORIGIN}${PATH}`;
  const saved = process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
  afterEach(() => {
    if (saved === undefined) delete process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
    else process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT = saved;
  });

  it('refuses options that are not an object, naming introspection()', () => {
    expect(() => introspection('tokenx' as never)).to.throw(TypeError, 'axios-m2m: expected introspection() options to be an object, got "tokenx"');
  });

  it('says where the endpoint comes from when neither the option nor the variable names one', () => {
    delete process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
    expect(() => introspection())
      .to.throw(TokenError, 'introspection(): the introspection endpoint (option endpoint or NAIS_TOKEN_INTROSPECTION_ENDPOINT) is not set')
      .with.property('code', 'configuration');
  });

  it('takes the endpoint from NAIS_TOKEN_INTROSPECTION_ENDPOINT, and plain http off loopback only with allowInsecure', () => {
    process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT = endpoint;
    expect(introspection().endpoint).to.equal(endpoint);
    expect(() => introspection({ endpoint: 'http://texas.test/api/v1/introspect' })).to.throw(TokenError, /plain http/);
    expect(introspection({ endpoint: 'http://texas.test/api/v1/introspect', allowInsecure: true }).endpoint).to.equal('http://texas.test/api/v1/introspect');
  });

  it('takes every identity provider Texas introspects, entra_id by default', () => {
    expect(introspection({ endpoint }).identityProvider).to.equal('entra_id');
    for (const identityProvider of ['entra_id', 'tokenx', 'idporten', 'maskinporten'] as const) {
      expect(introspection({ endpoint, identityProvider }).identityProvider).to.equal(identityProvider);
    }
    expect(() => introspection({ endpoint, identityProvider: 'azure' as never })).to.throw(TypeError, /^axios-m2m: expected identityProvider to be one of /);
  });

  it('refuses each bad option with a message naming it', () => {
    const bad: [IntrospectionOptions, string][] = [
      [{ bodyFormat: 'xml' as never }, `axios-m2m: expected bodyFormat to be 'json' or 'form', got "xml"`],
      [{ expiryMargin: -1 }, 'axios-m2m: expected expiryMargin to be a number of milliseconds >= 0, got number -1'],
      [{ inactiveTtl: -1 }, 'axios-m2m: expected inactiveTtl to be a number of milliseconds >= 0, got number -1'],
      [{ inactiveTtl: 60_001 }, 'axios-m2m: expected inactiveTtl to be a number of milliseconds <= 60000, got number 60001'],
      [{ timeout: 0 }, 'axios-m2m: expected timeout to be a number of milliseconds >= 1, got number 0'],
      [{ maxAge: 0 }, 'axios-m2m: expected maxAge to be a number of milliseconds >= 1, got number 0'],
      [{ concurrency: 0 }, 'axios-m2m: expected concurrency to be an integer >= 1, got number 0'],
      [{ maxEntries: 0 }, 'axios-m2m: expected maxEntries to be an integer >= 1, got number 0'],
    ];
    for (const [options, message] of bad) expect(() => introspection({ endpoint, ...options }), message).to.throw(TypeError, message);
    expect(() => introspection({ endpoint, inactiveTtl: 60_000, bodyFormat: 'form' })).to.not.throw();
  });

  it('refuses a token that is not a string with a TypeError naming what it got', async () => {
    const validator = introspection({ endpoint });
    for (const [token, got] of [
      [null, 'null'],
      [42, 'number'],
      [undefined, 'undefined'],
    ] as const) {
      const error = await validator.validate(token as never).then(
        () => expect.fail('resolved'),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(TypeError).with.property('message', `axios-m2m: expected token to be a string, got ${got}`);
    }
  });
});

describe("introspection(): the request to Texas and Texas's answer", () => {
  useNock();
  const endpoint = `${ORIGIN}${PATH}`;
  afterEach(() => sinon.restore());

  /** A refusal from Texas with `error`, for `token`: the reason validate() gives. */
  async function reasonFor(token: string, error: unknown): Promise<string> {
    nock(ORIGIN).post(PATH).reply(200, { active: false, error });
    const result = await introspection({ endpoint }).validate(token);
    if (result.active) expect.fail('active');
    return result.reason;
  }

  it('sends the identity provider and the token, as JSON by default and as a form with bodyFormat form', async () => {
    const token = fakeJwt({ sub: 'alice' });
    nock(ORIGIN)
      .post(PATH, (body: unknown) => JSON.stringify(body) === JSON.stringify({ identity_provider: 'tokenx', token }))
      .matchHeader('content-type', /^application\/json/)
      .reply(200, { active: true, exp: 1 });
    await introspection({ endpoint, identityProvider: 'tokenx' }).validate(token);
    nock(ORIGIN)
      .post(PATH, `identity_provider=maskinporten&token=${token}`)
      .matchHeader('content-type', /^application\/x-www-form-urlencoded/)
      .reply(200, { active: true, exp: 1 });
    await introspection({ endpoint, identityProvider: 'maskinporten', bodyFormat: 'form' }).validate(token);
  });

  it('gives Texas 2 s per attempt by default, or attemptTimeout', async () => {
    const timeout = sinon.spy(AbortSignal, 'timeout');
    nock(ORIGIN).post(PATH).times(2).reply(200, { active: true, exp: 1 });
    await introspection({ endpoint }).validate(fakeJwt({ sub: 'a' }));
    expect(timeout.lastCall.args).to.deep.equal([2_000]);
    await introspection({ endpoint, attemptTimeout: 700 }).validate(fakeJwt({ sub: 'b' }));
    expect(timeout.lastCall.args).to.deep.equal([700]);
  });

  it('retries twice by default (three requests), or as often as retries says', async () => {
    // The backoff between attempts runs on setTimeout, faked: whenever a backoff is pending beside
    // the deadline, the clock jumps to it; otherwise a request is on its way, and the event loop turns.
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const settle = async (promise: Promise<unknown>): Promise<unknown> => {
      let done = false;
      const outcome = promise.then(
        (value) => value,
        (error: unknown) => error,
      );
      void outcome.then(() => (done = true));
      while (!done) {
        if (clock.countTimers() > 1) await clock.nextAsync();
        else await new Promise((resolve) => setImmediate(resolve));
      }
      return outcome;
    };
    let requests = 0;
    nock(ORIGIN)
      .persist()
      .post(PATH)
      .reply(() => {
        requests += 1;
        return [503, 'busy'];
      });
    try {
      expect(await settle(introspection({ endpoint }).validate(fakeJwt({ sub: 'a' })))).to.have.property('status', 503);
      expect(requests).to.equal(3);
      requests = 0;
      expect(await settle(introspection({ endpoint, retries: 0 }).validate(fakeJwt({ sub: 'b' })))).to.have.property('status', 503);
      expect(requests).to.equal(1);
    } finally {
      clock.restore();
    }
  });

  it('fails with a TokenError timeout naming the deadline and the endpoint when Texas is slower than timeout', async () => {
    // Texas never answers: no reply is ever made, and the deadline alone ends the wait.
    nock(ORIGIN)
      .post(PATH)
      .reply((_uri, _body, callback) => void callback);
    const error = await introspection({ endpoint, timeout: 50 })
      .validate(fakeJwt({ sub: 'slow' }))
      .then(
        () => expect.fail('resolved'),
        (e: unknown) => e as TokenError,
      );
    expect(error).to.be.instanceOf(TokenError);
    expect(error).to.deep.include({ code: 'timeout', endpoint, message: `introspection of a token (entra_id) timed out after 50 ms (${endpoint})` });
  });

  it('never shows the token in the error when Texas echoes it in a failure', async () => {
    const token = fakeJwt({ sub: 'echoed' });
    nock(ORIGIN)
      .post(PATH)
      .reply(400, { error: 'invalid_request', error_description: `bad token ${token}` });
    const error = await introspection({ endpoint })
      .validate(token)
      .then(
        () => expect.fail('resolved'),
        (e: unknown) => e as TokenError,
      );
    expect(error.message).to.include('bad token');
    expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(token);
  });

  it('a 200 answer that is not one: bad_response with the status and the endpoint', async () => {
    nock(ORIGIN).post(PATH).reply(200, { active: 'yes' });
    const error = await introspection({ endpoint, identityProvider: 'idporten' })
      .validate(fakeJwt({ sub: 'x' }))
      .then(
        () => expect.fail('resolved'),
        (e: unknown) => e as TokenError,
      );
    expect(error).to.deep.include({
      code: 'bad_response',
      status: 200,
      endpoint,
      message: `introspection of a token (idporten) failed: 200 answer is not {"active": true|false, ...} (${endpoint})`,
    });
  });

  it("gives Texas's reason, or a generic one when it is empty, blank or not a string", async () => {
    const token = fakeJwt({ sub: 'alice' });
    expect(await reasonFor(token, 'invalid token: ExpiredSignature')).to.equal('invalid token: ExpiredSignature');
    expect(await reasonFor(token, `invalid token:\n${'x'.repeat(300)}`)).to.equal(`invalid token: ${'x'.repeat(184)}…`);
    for (const error of ['', '   ', 42, null, undefined, { why: 'no' }])
      expect(await reasonFor(token, error), JSON.stringify(error) ?? 'undefined').to.equal('token is not active');
  });

  it("gives a generic reason when Texas's shows the token or a part of it of 16 characters or more, never for a shorter part", async () => {
    const [header, payload] = fakeJwt({ sub: 'alice' }).split('.') as [string, string];
    const sixteen = 'abcdefghijklmnop';
    const token = `${header}.${payload}.${sixteen}`;
    expect(await reasonFor(token, `invalid token: ${token}`)).to.equal('token is not active');
    expect(await reasonFor(token, `invalid token: ${payload}`)).to.equal('token is not active');
    expect(await reasonFor(token, `bad signature ${sixteen}`)).to.equal('token is not active');
    // A signature part of three characters ('sig') is in many a message without being an echo.
    expect(await reasonFor(`${header}.${payload}.sig`, 'invalid signature')).to.equal('invalid signature');
  });

  it('gives claims frozen all the way down', async () => {
    const token = fakeJwt({ sub: 'alice' });
    nock(ORIGIN)
      .post(PATH)
      .reply(200, { active: true, exp: 1, roles: ['reader'], extra: { nested: { deep: [1] } } });
    const result = await introspection({ endpoint }).validate(token);
    if (!result.active) expect.fail('inactive');
    const extra = result.claims.extra as { nested: { deep: number[] } };
    expect([result, result.claims, result.claims.roles, extra, extra.nested, extra.nested.deep].map((v) => Object.isFrozen(v))).to.deep.equal([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
  });
});
