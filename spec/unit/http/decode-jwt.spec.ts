import { expect } from 'chai';
import fc from 'fast-check';
import * as jose from 'jose';
import { decodeJwt, decodeProtectedHeader } from '../../../lib/http/decode-jwt.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jwt = (header: unknown, claims: unknown) => `${b64(header)}.${b64(claims)}.c2ln`;

describe('decodeJwt / decodeProtectedHeader (unverified, instead of importing jose at start-up)', () => {
  it('reads the claims and the header of a compact JWS', async () => {
    const { privateKey } = await jose.generateKeyPair('ES256');
    const token = await new jose.SignJWT({ roles: ['a'] }).setProtectedHeader({ alg: 'ES256', kid: 'k' }).setExpirationTime(2_000_000_000).sign(privateKey);
    expect(decodeJwt(token)).to.deep.equal({ roles: ['a'], exp: 2_000_000_000 });
    expect(decodeProtectedHeader(token)).to.deep.equal({ alg: 'ES256', kid: 'k' });
  });

  it('throws for anything that is not a compact JWS with JSON object parts', () => {
    const cases = [
      'opaque-token',
      'a.b',
      `${b64({ alg: 'x' })}.${b64({})}.s.x.y`, // five parts: a JWE
      jwt({ alg: 'x' }, [1, 2]),
      jwt({ alg: 'x' }, 42),
      jwt({ alg: 'x' }, null),
      jwt({ alg: 'x' }, 'text'),
      `${b64({ alg: 'x' })}..sig`,
      `${b64({ alg: 'x' })}.${Buffer.from([0xff, 0xfe]).toString('base64url')}.sig`, // not UTF-8
      `${b64({ alg: 'x' })}.${b64('{"exp": 1')}.sig`, // truncated JSON
      42 as unknown as string,
    ];
    for (const token of cases) {
      expect(() => decodeJwt(token), String(token)).to.throw();
      expect(() => jose.decodeJwt(token), `jose agrees on ${String(token)}`).to.throw();
    }
    expect(() => decodeProtectedHeader(jwt([1], {}))).to.throw();
    // Stricter than jose here: padding is not base64url (RFC 7515 §2), and no issuer pads.
    expect(() => decodeJwt(`${b64({ alg: 'x' })}.${b64({})}=.sig`)).to.throw();
  });

  it('agrees with jose on every JSON object payload', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (claims) => {
        const token = jwt({ alg: 'RS256' }, claims);
        expect(decodeJwt(token)).to.deep.equal(jose.decodeJwt(token));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts no token that jose refuses, and reads the same claims from those it accepts', () => {
    const part = fc.oneof(fc.string(), fc.json().map(b64), fc.string().map(b64));
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const token = parts.join('.');
        let ours: unknown;
        try {
          ours = decodeJwt(token);
        } catch {
          return; // refusing more than jose is fine: only exp is read from what is accepted
        }
        expect(ours).to.deep.equal(jose.decodeJwt(token));
      }),
      { numRuns: 1_000 },
    );
  });
});
