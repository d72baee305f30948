import { expect } from 'chai';
import { proxySecrets, REDACTED, Redactor } from '../../../lib/http/redact.js';
import { ENCODINGS, secretForms } from '../../support/secret-forms.js';

const SECRET = 'Xy48Q~abc+d/e=f%2Fg h"i\\j<k>&\'é€😀';

describe('Redactor', () => {
  for (const [name, encode] of ENCODINGS) {
    it(`scrubs a secret echoed ${name}`, () => {
      const text = `before ${encode(SECRET)} after`;
      expect(new Redactor([SECRET]).redact(text)).to.equal(`before ${REDACTED} after`);
      expect(new Redactor([SECRET]).finds(text)).to.equal(true);
    });
  }

  const more: [string, (s: string) => string][] = [
    ['percent-encoded twice', (s) => encodeURIComponent(encodeURIComponent(s))],
    ['as HTML character references', (s) => [...s].map((c) => (/[a-z0-9]/i.test(c) ? c : `&#${c.codePointAt(0)};`)).join('')],
    ['as hexadecimal HTML references', (s) => [...s].map((c) => (/[a-z0-9]/i.test(c) ? c : `&#x${c.codePointAt(0)!.toString(16)};`)).join('')],
    ['in a mix of encodings', (s) => [...s].map((c, i) => (i % 2 ? encodeURIComponent(c) : JSON.stringify(c).slice(1, -1))).join('')],
    ['form-encoded inside JSON', (s) => JSON.stringify(new URLSearchParams({ s }).toString().slice(2)).slice(1, -1)],
  ];
  for (const [name, encode] of more) {
    it(`scrubs a secret echoed ${name}`, () => {
      expect(new Redactor([SECRET]).redact(`<${encode(SECRET)}>`)).to.equal(`<${REDACTED}>`);
    });
  }

  const single: [string, string, string][] = [
    ['a space as + alone (a form body)', 'client secret value', 'client+secret+value'],
    ['with JSON short escapes (\\/ and \\n)', 'path/to\nsecret-value', 'path\\/to\\nsecret-value'],
    ['with \\xHH escapes', 'path/to-secret-value', 'path\\x2fto\\x2dsecret-value'],
    ['with named HTML entities', 'a&b<c>d"e-secret', 'a&amp;b&lt;c&gt;d&quot;e-secret'],
  ];
  for (const [name, secret, echoed] of single) {
    it(`scrubs a secret echoed ${name}, in that form only`, () => {
      expect(new Redactor([secret]).redact(`<${echoed}>`)).to.equal(`<${REDACTED}>`);
      expect(new Redactor([secret]).finds(echoed)).to.equal(true);
    });
  }

  it('scrubs every occurrence, of every secret, the longer first', () => {
    const redactor = new Redactor(['secret-one', 'secret-one-and-more', 'other-secret']);
    expect(redactor.redact('a secret-one-and-more b secret-one c other%2Dsecret d secret-one')).to.equal(`a ${REDACTED} b ${REDACTED} c ${REDACTED} d ${REDACTED}`);
  });

  it('leaves text without a secret as it is, and ignores values too short to be secrets', () => {
    const redactor = new Redactor(['abc', '', 'long-enough-secret']);
    expect(redactor.redact('abc %7E ~ + long-enough')).to.equal('abc %7E ~ + long-enough');
    expect(redactor.finds('abc')).to.equal(false);
    expect(new Redactor([]).redact('anything')).to.equal('anything');
  });

  it('scrubs a secret of exactly the shortest length, and one with no letter or digit', () => {
    expect(new Redactor(['k3y9']).redact('<k3y9>')).to.equal(`<${REDACTED}>`);
    expect(new Redactor(['~!@#$^&*']).redact('<~!@#$^&*> <%7E%21%40%23%24%5E%26%2A>')).to.equal(`<${REDACTED}> <${REDACTED}>`);
  });

  it('scrubs nothing that is not a form of the secret (no character dropped or taken for another)', () => {
    const near: [string, string][] = [
      ['abcd-efgh', 'abcdefgh'],
      ['a-b-secret', 'a+b+secret'],
      ['\u20acuro-key', '\\x20acuro-key'],
      ['\u0100bcd-key', '\\x100bcd-key'],
    ];
    for (const [secret, text] of near) {
      expect(new Redactor([secret]).redact(text), secret).to.equal(text);
      expect(new Redactor([secret]).finds(text), secret).to.equal(false);
    }
  });

  it('takes a letter or digit only as written: the quick test on its longest run of them relies on it', () => {
    // No encoder in use escapes them; if one did, both rules would have to change together.
    for (const text of ['abcd-%6bey', 'abcd-\\u006bey', 'abcd-&#107;ey', 'abcd-k%65y']) {
      expect(new Redactor(['abcd-key']).redact(text), text).to.equal(text);
      expect(new Redactor(['abcd-key']).finds(text), text).to.equal(false);
    }
  });

  it('skips a value that is not a string (an option left undefined) and scrubs the rest', () => {
    const redactor = new Redactor([undefined as unknown as string, 42 as unknown as string, 'real-secret']);
    expect(redactor.redact('<real-secret>')).to.equal(`<${REDACTED}>`);
  });

  it('finds the same forms it scrubs, however often it is asked', () => {
    const redactor = new Redactor([SECRET]);
    for (const form of secretForms(SECRET)) {
      expect(redactor.finds(`x${form}y`), form).to.equal(true);
      expect(redactor.finds(`x${form}y`), `${form}, again`).to.equal(true);
    }
    expect(redactor.finds('Xy48Q~abc')).to.equal(false);
  });
});

describe('proxySecrets()', () => {
  it("gives the password, user:password and the Basic header's base64, decoded as sent", () => {
    expect(proxySecrets(new URL('http://team:p%40ss%20word@proxy:8088'))).to.deep.equal([
      'p@ss word',
      'team:p@ss word',
      Buffer.from('team:p@ss word').toString('base64'),
    ]);
  });

  it('gives what there is for a proxy with only a user name or only a password', () => {
    expect(proxySecrets(new URL('http://team-user@proxy:8088'))).to.include(Buffer.from('team-user:').toString('base64'));
    expect(proxySecrets(new URL('http://:only-a-password@proxy:8088'))).to.include('only-a-password');
  });

  it('gives a password with a stray % as written', () => {
    expect(proxySecrets(new URL('http://team:p%zz-word@proxy:8088'))).to.deep.equal(['p%zz-word', 'team:p%zz-word', Buffer.from('team:p%zz-word').toString('base64')]);
  });

  it('gives nothing for a proxy without credentials', () => {
    expect(proxySecrets(new URL('http://proxy:8088'))).to.deep.equal([]);
  });
});
