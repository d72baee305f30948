import { expect } from 'chai';
import { RecentTokens, honoursAllowAbsoluteUrls } from '../../../lib/interceptor/old-axios.js';

describe('workarounds for older axios releases (lib/interceptor/old-axios.ts)', () => {
  it('trusts allowAbsoluteUrls: false only from axios 1.8.2, where the http adapter honours it', () => {
    const versions = ['1.7.9', '1.8.0', '1.8.1', '1.8.2', '1.13.6', '1.21.1', '2.0.0', '0.9.0', '0.27.2', '', undefined];
    expect(versions.map(honoursAllowAbsoluteUrls)).to.deep.equal([false, false, false, true, true, true, true, false, false, false, false]);
  });

  it('recognises the last 16 tokens attached, and forgets the oldest beyond that', () => {
    const recent = new RecentTokens();
    const token = (value: string) => ({ token: value, expiresAt: 1_000 });
    for (let n = 1; n <= 16; n++) recent.add(token(`t${n}`), 'api://a/.default');
    recent.add(token('t1'), 'api://a/.default'); // already known: does not count as new
    expect(recent.has('t1')).to.equal(true);
    recent.add(token('t17'), 'api://a/.default');
    expect(recent.has('t1')).to.equal(false);
    expect(recent.has('t2')).to.equal(true);
    expect(recent.has('t17')).to.equal(true);
    expect(recent.has('never')).to.equal(false);
  });

  it("keeps each token's scope and expiry, for the note an error shows in its place", () => {
    const recent = new RecentTokens();
    recent.add({ token: 'tok', expiresAt: 1_700_000_000_000 }, 'api://b/.default');
    expect(recent.noteOf('tok')).to.deep.equal({ scope: 'api://b/.default', expiresAt: 1_700_000_000_000 });
    expect(recent.noteOf('other')).to.equal(undefined);
  });
});
