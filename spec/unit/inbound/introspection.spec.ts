import { expect } from 'chai';
import nock from 'nock';
import { inspect } from 'node:util';
import sinon from 'sinon';
import { TokenError } from '../../../lib/errors.js';
import { introspection } from '../../../lib/inbound/introspection.js';
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
