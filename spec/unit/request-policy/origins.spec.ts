import { expect } from 'chai';
import { originOf, parseOrigins } from '../../../lib/request-policy/origins.js';

describe('request-policy/origins', () => {
  it('originOf: scheme, host and port as URL serialises them; undefined for what has none', () => {
    expect(originOf('https://API.example:443/path?q')).to.equal('https://api.example');
    expect(originOf(new URL('http://127.0.0.1:8080/x'))).to.equal('http://127.0.0.1:8080');
    expect([originOf('/relative'), originOf('file:///etc/passwd'), originOf(undefined), originOf('not a url')]).to.deep.equal([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('parseOrigins: normalises each entry once, and refuses what is not an absolute http(s) URL', () => {
    expect([...parseOrigins(['https://a.example/some/path', 'HTTP://B.example:80'])]).to.deep.equal(['https://a.example', 'http://b.example']);
    expect([...parseOrigins(undefined)]).to.deep.equal([]);
    for (const bad of [['/relative'], ['ftp://files.example'], [42], 'https://a.example']) {
      expect(() => parseOrigins(bad as never), JSON.stringify(bad)).to.throw(TypeError, /expected origins to/);
    }
  });
});
