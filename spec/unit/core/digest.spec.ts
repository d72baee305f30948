import { expect } from 'chai';
import { digestOf } from '../../../lib/core/digest.js';
import { cacheKeyOf } from '../../../lib/sources/on-behalf-of.js';

// The figures below are the keys the two caches computed before they shared this function:
// SHA-256 in base64url, cut to 22 characters, parts joined by NUL.
describe('digestOf()', () => {
  it('is the first 22 base64url characters of the SHA-256 of one part', () => {
    expect(digestOf('abc')).to.equal('ungWv48Bz-pBQUDeXa4iI7');
    expect(digestOf('')).to.equal('47DEQpj8HBSa-_TImW-5JC');
  });

  it('joins several parts with NUL before hashing: (user token, scope) keeps its old key', () => {
    expect(digestOf('user-token', 'api://x/.default')).to.equal('AVxjnsZ0304vJfR5HCQbZ6');
    expect(digestOf('user-token', 'api://x/.default')).to.equal(digestOf('user-token\0api://x/.default'));
    expect(cacheKeyOf('user-token', 'api://x/.default')).to.equal('AVxjnsZ0304vJfR5HCQbZ6');
  });

  it('keeps parts apart: moving a character across the boundary changes the key', () => {
    expect(digestOf('ab', 'c')).not.to.equal(digestOf('a', 'bc'));
    expect(digestOf('ab', 'c')).not.to.equal(digestOf('abc'));
    expect(digestOf('a', '', 'b')).not.to.equal(digestOf('a', 'b'));
  });

  it('shows nothing of its input', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const key = digestOf(token);
    expect(key).to.match(/^[A-Za-z0-9_-]{22}$/);
    expect(token).not.to.include(key);
    expect(key).not.to.include(token.slice(0, 6));
  });
});
