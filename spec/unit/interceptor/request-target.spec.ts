import type { InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { describeRequest, requestTargets } from '../../../lib/interceptor/request-target.js';

// Where axios will send a request decides whether the token goes with it: the target must be
// resolved as axios's own buildFullPath does, or a token goes to a host nobody named.

const config = (fields: Partial<InternalAxiosRequestConfig>) => ({ headers: {}, ...fields }) as InternalAxiosRequestConfig;

describe('requestTargets()', () => {
  it("sends a relative URL to the baseURL's origin", () => {
    const target = requestTargets();
    expect({ ...target(config({ baseURL: 'https://api.example/v1/', url: '/things?x=1' })) }).to.deep.equal({
      base: 'https://api.example',
      origin: 'https://api.example',
    });
  });

  it('lets an absolute URL win over the baseURL, unless allowAbsoluteUrls is false', () => {
    const target = requestTargets();
    expect(target(config({ baseURL: 'https://api.example', url: 'https://evil.example/x' })).origin).to.equal('https://evil.example');
    expect(target(config({ baseURL: 'https://api.example', url: 'https://evil.example/x', allowAbsoluteUrls: false })).origin).to.equal('https://api.example');
    expect(target(config({ url: 'https://evil.example/x', allowAbsoluteUrls: false })).origin).to.equal('https://evil.example');
  });

  it("gives a protocol-relative URL the baseURL's protocol, and no origin without a baseURL", () => {
    const target = requestTargets();
    expect(target(config({ baseURL: 'http://api.example', url: '//evil.example/x' })).origin).to.equal('http://evil.example');
    expect(target(config({ url: '//evil.example/x' })).origin).to.equal(undefined);
  });

  it('tells no origin for a relative URL without a baseURL, nor for an empty one', () => {
    const target = requestTargets();
    expect({ ...target(config({ url: '/things' })) }).to.deep.equal({ base: undefined, origin: undefined });
    expect({ ...target(config({ baseURL: '', url: '/things' })) }).to.deep.equal({ base: undefined, origin: undefined });
  });

  it("follows the baseURL from one request to the next, never keeping the last one's origin for a request without one", () => {
    const target = requestTargets();
    expect(target(config({ baseURL: 'https://a.example', url: '/x' })).origin).to.equal('https://a.example');
    expect(target(config({ baseURL: 'https://b.example', url: '/x' })).origin).to.equal('https://b.example');
    expect(target(config({ url: '/x' })).origin).to.equal(undefined);
    expect(target(config({ baseURL: 'https://b.example', url: '/x' })).origin).to.equal('https://b.example');
  });
});

describe('describeRequest(config)', () => {
  it('gives the method in capitals (GET by default) and the path without query or fragment', () => {
    expect(describeRequest(config({ method: 'post', url: '/things?token=secret#frag' }))).to.equal('POST /things');
    expect(describeRequest(config({ url: '/things#frag' }))).to.equal('GET /things');
    expect(describeRequest(config({}))).to.equal('GET /');
  });

  it('leaves out user:password@ of an absolute or protocol-relative URL', () => {
    expect(describeRequest(config({ url: 'https://user:pa55@api.example/x' }))).to.equal('GET https://api.example/x');
    expect(describeRequest(config({ url: 'HTTP://user@api.example/x' }))).to.equal('GET HTTP://api.example/x');
    expect(describeRequest(config({ url: '//user:pa55@api.example/x' }))).to.equal('GET //api.example/x');
    expect(describeRequest(config({ url: 'git+ssh://me:pw@host/x' }))).to.equal('GET git+ssh://host/x');
    expect(describeRequest(config({ url: 's3://key:secret@bucket/x' }))).to.equal('GET s3://bucket/x');
    expect(describeRequest(config({ url: '/search/user@example.com' }))).to.equal('GET /search/user@example.com');
  });

  it('cuts a path longer than 120 characters, and keeps one of 120 whole', () => {
    const exact = `/${'a'.repeat(119)}`;
    expect(describeRequest(config({ url: exact }))).to.equal(`GET ${exact}`);
    expect(describeRequest(config({ url: `${exact}b` }))).to.equal(`GET ${exact}…`);
  });
});
