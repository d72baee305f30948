import { expect } from 'chai';
import { LOCAL_ERROR_CODES, OAUTH_ERROR_CODES } from '../../../lib/errors.js';
import {
  boundedErrorType,
  CACHE,
  endpointAttributes,
  ERROR_TYPE,
  EXPIRES_IN,
  HTTP_METHOD,
  HTTP_STATUS,
  IDENTITY_PROVIDER,
  OUTCOME,
  REASON,
  REFRESHED,
  SCOPE,
  SOURCE,
  targetAttributes,
} from '../../../lib/opentelemetry/attributes.js';

// Attribute names are what dashboards and alerts query: a renamed one empties them silently.

describe('opentelemetry/attributes', () => {
  describe('names', () => {
    it('uses the semantic conventions for HTTP and errors', () => {
      expect({ HTTP_METHOD, HTTP_STATUS, ERROR_TYPE }).to.deep.equal({
        HTTP_METHOD: 'http.request.method',
        HTTP_STATUS: 'http.response.status_code',
        ERROR_TYPE: 'error.type',
      });
    });

    it("puts the package's own under axios_m2m.", () => {
      expect({ SOURCE, SCOPE, REASON, OUTCOME, EXPIRES_IN, CACHE, REFRESHED, IDENTITY_PROVIDER }).to.deep.equal({
        SOURCE: 'axios_m2m.source',
        SCOPE: 'axios_m2m.scope',
        REASON: 'axios_m2m.reason',
        OUTCOME: 'axios_m2m.outcome',
        EXPIRES_IN: 'axios_m2m.expires_in',
        CACHE: 'axios_m2m.cache',
        REFRESHED: 'axios_m2m.refreshed',
        IDENTITY_PROVIDER: 'axios_m2m.identity_provider',
      });
    });
  });

  describe('endpointAttributes()', () => {
    it('gives server.address, server.port and url.full of an endpoint with a port', () => {
      expect(endpointAttributes('http://127.0.0.1:3000/api/v1/token')).to.deep.equal({
        'server.address': '127.0.0.1',
        'server.port': 3000,
        'url.full': 'http://127.0.0.1:3000/api/v1/token',
      });
    });

    it("gives the scheme's default port when the endpoint names none: 443 for https, 80 for http", () => {
      expect(endpointAttributes('https://login.microsoftonline.com/tenant/oauth2/v2.0/token')).to.deep.equal({
        'server.address': 'login.microsoftonline.com',
        'server.port': 443,
        'url.full': 'https://login.microsoftonline.com/tenant/oauth2/v2.0/token',
      });
      expect(endpointAttributes('http://texas/api/v1/token')).to.deep.equal({
        'server.address': 'texas',
        'server.port': 80,
        'url.full': 'http://texas/api/v1/token',
      });
    });

    it('gives an IPv6 address without its brackets, as server.address asks', () => {
      expect(endpointAttributes('http://[::1]:8080/token')).to.deep.equal({
        'server.address': '::1',
        'server.port': 8080,
        'url.full': 'http://[::1]:8080/token',
      });
      expect(endpointAttributes('https://[2001:db8::7]/token')['server.address']).to.equal('2001:db8::7');
    });

    it('never puts credentials, a query or a fragment into url.full, whatever the publisher passes', () => {
      const attributes = endpointAttributes('https://client-id:client-secret-value@login.example/tenant/token?client_secret=query-secret#frag-secret');
      expect(attributes).to.deep.equal({ 'server.address': 'login.example', 'server.port': 443, 'url.full': 'https://login.example/tenant/token' });
      expect(JSON.stringify(attributes)).not.to.match(/secret|client-id|frag/);
    });

    it('gives nothing when there is no endpoint or it does not parse', () => {
      expect(endpointAttributes(undefined)).to.deep.equal({});
      expect(endpointAttributes('')).to.deep.equal({});
      expect(endpointAttributes('not a url')).to.deep.equal({});
      expect(endpointAttributes('/api/v1/token')).to.deep.equal({});
    });
  });

  describe('targetAttributes()', () => {
    it('gives url.path for a path', () => {
      expect(targetAttributes('/things/42')).to.deep.equal({ 'url.path': '/things/42' });
      expect(targetAttributes('/')).to.deep.equal({ 'url.path': '/' });
    });

    it('gives url.full, origin and path only, for an absolute URL', () => {
      expect(targetAttributes('https://api.example:8443/things?token=query-secret')).to.deep.equal({ 'url.full': 'https://api.example:8443/things' });
      expect(targetAttributes('http://user:password-secret@api.example/things')).to.deep.equal({ 'url.full': 'http://api.example/things' });
    });

    it('gives nothing for a target that is neither', () => {
      expect(targetAttributes('things/42')).to.deep.equal({});
      expect(targetAttributes('')).to.deep.equal({});
    });
  });

  describe('boundedErrorType()', () => {
    it('keeps every documented code as it is', () => {
      for (const code of [...LOCAL_ERROR_CODES, ...OAUTH_ERROR_CODES]) expect(boundedErrorType(code), code).to.equal(code);
      expect(boundedErrorType('invalid_client')).to.equal('invalid_client');
      expect(boundedErrorType('timeout')).to.equal('timeout');
    });

    it('turns any other code, or none, into unknown, so no source can grow the series', () => {
      expect(boundedErrorType(undefined)).to.equal('unknown');
      expect(boundedErrorType('my_custom_code')).to.equal('unknown');
      expect(boundedErrorType('')).to.equal('unknown');
      expect(boundedErrorType('INVALID_CLIENT')).to.equal('unknown');
      expect(boundedErrorType('constructor')).to.equal('unknown');
      expect(boundedErrorType('toString')).to.equal('unknown');
    });
  });
});
