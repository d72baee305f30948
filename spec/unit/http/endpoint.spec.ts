import { expect } from 'chai';
import { inspect } from 'node:util';
import { TokenError } from '../../../lib/errors.js';
import { parseEndpoint } from '../../../lib/http/endpoint.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import { texas } from '../../../lib/sources/texas.js';

// A token endpoint URL with credentials in it (`https://user:pass@host/token`) is refused when a
// source is created: axios would send them as Basic auth to the endpoint, and every error and
// event would need them scrubbed. The refusal names neither the user nor the password.

const PASSWORD = 'url-password-4f2a';
const withCredentials = (url: string) => url.replace('//', `//someone:${PASSWORD}@`);

const sources: [string, (url: string) => unknown][] = [
  ['texas()', (endpoint) => texas({ endpoint })],
  ['onBehalfOf()', (endpoint) => onBehalfOf({ endpoint })],
  ['clientCredentials()', (tokenEndpoint) => clientCredentials({ tokenEndpoint, clientId: 'c', clientSecret: 's' })],
  ['parseEndpoint() (as introspection uses it)', (url) => parseEndpoint(url, 'the introspection endpoint')],
];

describe('a token endpoint with credentials in its URL', () => {
  for (const [name, make] of sources) {
    for (const url of ['https://login.example/tenant/token', 'http://127.0.0.1:7164/api/v1/token']) {
      it(`${name} refuses ${withCredentials(url).replace(PASSWORD, '…')} at creation, naming neither user nor password`, () => {
        let error: unknown;
        try {
          make(withCredentials(url));
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(TokenError);
        expect(error).to.include({ code: 'configuration', endpoint: url });
        expect((error as Error).message).to.match(/must not carry credentials in the URL$/);
        for (const view of [(error as Error).message, JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true })]) {
          expect(view).to.not.include(PASSWORD);
          expect(view).to.not.include('someone');
        }
      });
    }

    it(`${name} refuses a user name alone, too`, () => {
      expect(() => make('https://someone@login.example/token')).to.throw(TokenError, /must not carry credentials in the URL/);
    });

    it(`${name} accepts the same URL without credentials`, () => {
      expect(() => make('https://login.example/tenant/token')).to.not.throw();
    });
  }
});

describe('parseEndpoint: a URL without a scheme', () => {
  it('says that host:port has no scheme and how to write it, instead of naming a scheme "localhost:"', () => {
    expect(() => parseEndpoint('localhost:7164', 'NAIS_TOKEN_ENDPOINT')).to.throw(
      TokenError,
      'NAIS_TOKEN_ENDPOINT has no scheme: "localhost:7164" reads as a host and port; write http://localhost:7164 (https:// off loopback)',
    );
    expect(() => parseEndpoint('127.0.0.1:7164/api/v1/token', 'NAIS_TOKEN_ENDPOINT')).to.throw(TokenError, /write http:\/\/127\.0\.0\.1:7164\/api\/v1\/token/);
    expect(() => parseEndpoint('ftp://files.example/token', 'the endpoint')).to.throw(TokenError, 'the endpoint must be an http(s) URL, got the scheme ftp:');
  });
});
