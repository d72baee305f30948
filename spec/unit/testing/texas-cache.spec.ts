import { expect } from 'chai';
import type { JWTPayload } from 'jose';
import { createTexasCache } from '../../../lib/testing/texas-cache.js';
import type { Entry } from '../../../lib/testing/texas-request.js';

describe('testing/texas-cache', () => {
  let now: number;
  let minted: JWTPayload[];
  let lifetime: number;
  let fail: boolean;
  const mint = (_provider: string, claims: JWTPayload): Promise<Entry> => {
    if (fail) return Promise.reject(new Error('upstream'));
    minted.push(claims);
    return Promise.resolve({ token: `t${minted.length}`, mintedAt: now, lifetime });
  };
  const claims = () => Promise.resolve({ aud: 'a' });
  beforeEach(() => {
    now = 0;
    minted = [];
    lifetime = 3600;
    fail = false;
  });

  it('serves an entry until lifetime - 120 s (over 120 s), else half its lifetime; then mints anew', async () => {
    const cached = createTexasCache(() => now, mint);
    expect((await cached('k', false, 'entra_id', claims)).token).to.equal('t1');
    now = 3_479_999;
    expect((await cached('k', false, 'entra_id', claims)).token).to.equal('t1');
    now = 3_480_000;
    expect((await cached('k', false, 'entra_id', claims)).token).to.equal('t2');
    lifetime = 100;
    expect((await cached('short', false, 'entra_id', claims)).token).to.equal('t3');
    now += 49_999;
    expect((await cached('short', false, 'entra_id', claims)).token).to.equal('t3');
    now += 1;
    expect((await cached('short', false, 'entra_id', claims)).token).to.equal('t4');
  });

  it('shares one mint among concurrent callers of a key, keeps keys apart, mints anew on skip, and never keeps a failure', async () => {
    const cached = createTexasCache(() => now, mint);
    const [a, b, c] = await Promise.all([cached('k', false, 'p', claims), cached('k', true, 'p', claims), cached('other', false, 'p', claims)]);
    expect([a.token, b.token, c.token]).to.deep.equal(['t1', 't1', 't2']);
    expect((await cached('k', true, 'p', claims)).token).to.equal('t3');
    expect((await cached('k', false, 'p', claims)).token).to.equal('t3');
    fail = true;
    await cached('failing', false, 'p', claims).then(
      () => expect.fail('expected the mint to fail'),
      (error: Error) => expect(error.message).to.equal('upstream'),
    );
    fail = false;
    expect((await cached('failing', false, 'p', claims)).token).to.equal('t4');
  });
});
