import { expect } from 'chai';
import nock from 'nock';
import { inspect } from 'node:util';
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
