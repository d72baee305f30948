import { expect } from 'chai';
import nock from 'nock';
import sinon from 'sinon';
import { isAuthError, type AuthError } from '../../../lib/inbound/auth-error.js';
import { introspection } from '../../../lib/inbound/introspection.js';
import { requireToken } from '../../../lib/inbound/require-token.js';
import { EXPIRED_TOKEN_LEEWAY, shapeRefusal } from '../../../lib/inbound/token-shape.js';
import { fakeJwt } from '../../support/fake-jwt.js';
import { useNock } from '../../support/nock.js';

// The local check before Texas is asked: each way a token can miss the shape of one Texas could
// accept, alone (every other part of the token well formed), refused with a reason naming that
// check, and no request to Texas at all.

const ORIGIN = 'http://127.0.0.1:7164';
const PATH = '/api/v1/introspect';
const NOW = 1_800_000_000_000;
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64url');
const json = (value: unknown) => b64(JSON.stringify(value));
const HEADER = { alg: 'RS256', kid: 'key-1', typ: 'JWT' };
const CLAIMS = { sub: 'alice', exp: NOW / 1000 + 3600 };
const SIG = b64('signature-bytes-signature-bytes');
const jws = (header: string, payload: string, signature = SIG) => `${header}.${payload}.${signature}`;

const PARTS = 'not a JWS: expected three base64url parts';
const HEADER_JSON = 'not a JWS: the header is not a JSON object';
const cases: [name: string, token: string, reason: string][] = [
  ['two parts', `${json(HEADER)}.${json(CLAIMS)}`, PARTS],
  ['four parts', `${jws(json(HEADER), json(CLAIMS))}.${SIG}`, PARTS],
  ['five parts (a JWE)', `${json(HEADER)}.${SIG}.${SIG}.${SIG}.${SIG}`, PARTS],
  ['an empty signature', jws(json(HEADER), json(CLAIMS), ''), PARTS],
  ['a signature in base64, not base64url', jws(json(HEADER), json(CLAIMS), 'c2ln+bmF0/dXJl'), PARTS],
  ['base64 padding', jws(json(HEADER), json(CLAIMS), `${SIG}==`), PARTS],
  ['a header that is not JSON', jws(b64('{"alg":"RS256",'), json(CLAIMS)), HEADER_JSON],
  ['a header that is a JSON string', jws(json('RS256'), json(CLAIMS)), HEADER_JSON],
  ['a header that is a JSON array', jws(json([HEADER]), json(CLAIMS)), HEADER_JSON],
  ['a header that is not UTF-8', jws(b64(Buffer.from([0x7b, 0xff, 0x7d])), json(CLAIMS)), HEADER_JSON],
  ['no alg', jws(json({ kid: 'key-1' }), json(CLAIMS)), 'not a JWS: the header has no alg'],
  ['an empty alg', jws(json({ ...HEADER, alg: '' }), json(CLAIMS)), 'not a JWS: the header has no alg'],
  ['a numeric alg', jws(json({ ...HEADER, alg: 256 }), json(CLAIMS)), 'not a JWS: the header has no alg'],
  ['alg none', jws(json({ ...HEADER, alg: 'none' }), json(CLAIMS)), 'not a JWS: the header has alg none'],
  ['alg NONE', jws(json({ ...HEADER, alg: 'NONE' }), json(CLAIMS)), 'not a JWS: the header has alg none'],
  ['no kid', jws(json({ alg: 'RS256' }), json(CLAIMS)), 'not a JWS: the header has no kid'],
  ['an empty kid', jws(json({ ...HEADER, kid: '' }), json(CLAIMS)), 'not a JWS: the header has no kid'],
  ['a numeric kid', jws(json({ ...HEADER, kid: 1 }), json(CLAIMS)), 'not a JWS: the header has no kid'],
  ['a payload that is not JSON', jws(json(HEADER), b64('sub=alice')), 'not a JWS: the payload is not a JSON object'],
  ['a payload that is JSON null', jws(json(HEADER), json(null)), 'not a JWS: the payload is not a JSON object'],
  ['no exp', jws(json(HEADER), json({ sub: 'alice' })), 'token has no numeric exp'],
  ['exp a string', jws(json(HEADER), json({ ...CLAIMS, exp: String(CLAIMS.exp) })), 'token has no numeric exp'],
  ['exp 61 s past', jws(json(HEADER), json({ ...CLAIMS, exp: NOW / 1000 - 61 })), 'token expired: exp more than 60 s past'],
];

describe('shapeRefusal(token, now): the shape of a token Texas could accept', () => {
  it('passes a compact JWS with alg, kid and an exp ahead', () => {
    expect(shapeRefusal(jws(json(HEADER), json(CLAIMS)), NOW)).to.equal(undefined);
  });

  for (const [name, token, reason] of cases) {
    it(`${name}: ${reason}`, () => {
      expect(shapeRefusal(token, NOW)).to.equal(reason);
    });
  }

  it("passes a token up to EXPIRED_TOKEN_LEEWAY (Texas's own 60 s) past exp, and no further", () => {
    expect(EXPIRED_TOKEN_LEEWAY).to.equal(60_000);
    const token = jws(json(HEADER), json({ ...CLAIMS, exp: NOW / 1000 }));
    expect(shapeRefusal(token, NOW + EXPIRED_TOKEN_LEEWAY)).to.equal(undefined);
    expect(shapeRefusal(token, NOW + EXPIRED_TOKEN_LEEWAY + 1)).to.equal('token expired: exp more than 60 s past');
  });

  it('checks no other claim: iss, aud and a signature are for Texas to judge', () => {
    expect(shapeRefusal(jws(json({ alg: 'ES512', kid: 'x' }), json({ exp: NOW / 1000 })), NOW)).to.equal(undefined);
  });
});

describe('introspection().validate(token) and requireToken() with a token of the wrong shape', () => {
  useNock();
  let clock: sinon.SinonFakeTimers;
  let calls: number;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] });
    calls = 0;
    // Answers any request (optionally: none is expected), counting them.
    nock(ORIGIN)
      .post(PATH)
      .optionally()
      .times(100)
      .reply(() => {
        calls += 1;
        return [200, { active: true, sub: 'alice', exp: CLAIMS.exp }];
      });
  });
  afterEach(() => clock.restore());

  const endpoint = `${ORIGIN}${PATH}`;

  for (const [name, token, reason] of cases) {
    it(`${name}: { active: false, reason: '${reason}' }, nothing kept, no request to Texas`, async () => {
      const validator = introspection({ endpoint });
      expect(await validator.validate(token)).to.deep.equal({ active: false, reason });
      expect(await validator.validate(token)).to.deep.equal({ active: false, reason });
      expect(calls, 'requests to Texas').to.equal(0);
      expect(validator.size, 'results kept').to.equal(0);
    });
  }

  it('sends a token of the right shape to Texas (the interceptor above does count requests)', async () => {
    const validator = introspection({ endpoint });
    expect(await validator.validate(jws(json(HEADER), json(CLAIMS)))).to.deep.include({ active: true });
    expect(calls).to.equal(1);
  });

  it("requireToken(): 401 invalid_token naming the check, as for Texas's refusal, with no request to Texas", async () => {
    const middleware = requireToken({ endpoint });
    const refusal = (token: string) =>
      new Promise<AuthError>((resolve, reject) => {
        middleware({ headers: { authorization: `Bearer ${token}` } }, undefined, (error?: unknown) =>
          isAuthError(error) ? resolve(error) : reject(new Error(`next(${String(error)})`)),
        );
      });
    const error = await refusal(jws(json({ ...HEADER, alg: 'none' }), json(CLAIMS)));
    expect(error).to.deep.include({ code: 'invalid_token', status: 401, reason: 'not a JWS: the header has alg none' });
    expect(error.headers).to.deep.equal({ 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    expect(error.message).to.equal('bearer token refused: not a JWS: the header has alg none');
    const expired = await refusal(fakeJwt({ exp: NOW / 1000 - 3600 }));
    expect(expired).to.deep.include({ code: 'invalid_token', reason: 'token expired: exp more than 60 s past' });
    expect(calls, 'requests to Texas').to.equal(0);
  });
});
