import { AxiosError, AxiosHeaders, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { OutgoingMessage } from 'node:http';
import { inspect } from 'node:util';
import { bearerOf, redactedAuthorization, redactError } from '../../../lib/interceptor/redact-error.js';

const TOKEN = 'unit-secret-token-value';
const NOTE = { scope: 'api://x/.default', expiresAt: Date.parse('2030-01-01T00:00:00.000Z') };
const digest = createHash('sha256').update(TOKEN).digest('hex').slice(0, 8);

describe('redact-error', () => {
  it('describes a token by digest, scope and expiry, never by itself', () => {
    const note = redactedAuthorization(TOKEN, NOTE);
    expect(note).to.equal(`Bearer [redacted by axios-m2m: sha256 ${digest}, scope api://x/.default, expires 2030-01-01T00:00:00.000Z]`);
    expect(redactedAuthorization(TOKEN, { scope: 's', expiresAt: Number.NaN })).to.include('expires unknown');
  });

  it('replaces the token in AxiosHeaders, plain headers, a raw header block and a redirect wrapper, and nothing else', () => {
    const config = { headers: new AxiosHeaders({ Authorization: `Bearer ${TOKEN}`, Accept: 'application/json' }) };
    const native = { _header: `GET / HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`, outputData: [{ data: `x ${TOKEN}` }] };
    const wrapper = { _options: { headers: { Authorization: `Bearer ${TOKEN}` } }, _currentRequest: native };
    const error = { config, request: wrapper, response: { config: { headers: { authorization: `Bearer ${TOKEN}` } }, request: native } };
    redactError(error, TOKEN, NOTE);
    const text = JSON.stringify([config.headers, native, wrapper._options, error.response.config]);
    expect(text).to.not.include(TOKEN);
    expect(config.headers.get('Accept')).to.equal('application/json');
    expect(config.headers.get('Authorization')).to.equal(redactedAuthorization(TOKEN, NOTE));
    expect(native._header).to.include(`Authorization: ${redactedAuthorization(TOKEN, NOTE)}\r\n`);
    expect(bearerOf(config)).to.equal(undefined); // the note is not a token to redact again
  });

  it("leaves an Authorization that holds another token (the user's own) as it is", () => {
    const config = { headers: new AxiosHeaders({ Authorization: 'Bearer users-own' }) };
    redactError({ config }, TOKEN, NOTE);
    expect(config.headers.get('Authorization')).to.equal('Bearer users-own');
    expect(bearerOf(config)).to.equal('users-own');
  });

  it('replaces a bare copy of the token with the note without its scheme, in strings and lists of strings', () => {
    const native = { _header: `GET / HTTP/1.1\r\nX-Token: ${TOKEN}\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n` };
    const plain = { headers: { authorization: [`Bearer ${TOKEN}`], 'x-copy': [TOKEN, 'other'] } };
    redactError({ request: { _options: plain, _currentRequest: native } }, TOKEN, NOTE);
    const note = redactedAuthorization(TOKEN, NOTE);
    expect(native._header).to.equal(`GET / HTTP/1.1\r\nX-Token: ${note.slice('Bearer '.length)}\r\nAuthorization: ${note}\r\n\r\n`);
    expect(plain.headers).to.deep.equal({ authorization: [note], 'x-copy': [note.slice('Bearer '.length), 'other'] });
  });

  it("replaces the token in Node's header table behind getHeaders() and in what was queued on the request and its socket", () => {
    const message = new OutgoingMessage();
    message.setHeader('Authorization', `Bearer ${TOKEN}`);
    message.setHeader('Accept', 'application/json');
    const request = Object.assign(message, {
      outputData: [{ data: `GET / HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`, encoding: 'latin1' }],
      socket: { _pendingData: `Authorization: Bearer ${TOKEN}\r\n` },
    });
    redactError({ request }, TOKEN, NOTE);
    const note = redactedAuthorization(TOKEN, NOTE);
    expect(message.getHeader('authorization')).to.equal(note);
    expect(message.getHeaders()).to.deep.equal({ authorization: note, accept: 'application/json' });
    expect(request.outputData[0]!.data).to.equal(`GET / HTTP/1.1\r\nAuthorization: ${note}\r\n\r\n`);
    expect(request.socket._pendingData).to.equal(`Authorization: ${note}\r\n`);
  });

  it("follows the request's links, follow-redirects' wrapper both ways and an interception library's socket, and stops on a cycle", () => {
    const native: Record<string, unknown> = { _header: `Authorization: Bearer ${TOKEN}\r\n` };
    const wrapper = { _options: { headers: { Authorization: `Bearer ${TOKEN}` } }, _currentRequest: native };
    native._redirectable = wrapper; // follow-redirects links them both ways
    const intercepted = new Request('https://api.example/', { headers: { authorization: `Bearer ${TOKEN}`, accept: '*/*' } });
    const viaSocket = { socket: { request: intercepted } };
    redactError({ request: native, response: { request: viaSocket } }, TOKEN, NOTE);
    const note = redactedAuthorization(TOKEN, NOTE);
    expect(native._header).to.equal(`Authorization: ${note}\r\n`);
    expect(wrapper._options.headers.Authorization).to.equal(note);
    expect(intercepted.headers.get('authorization')).to.equal(note);
    expect(intercepted.headers.get('accept')).to.equal('*/*');
    // The wrapper as the error's request (no response came): it leads to the native request.
    const second: Record<string, unknown> = { _header: `Authorization: Bearer ${TOKEN}\r\n` };
    redactError({ request: { _options: { headers: {} }, _currentRequest: second } }, TOKEN, NOTE);
    expect(second._header).to.equal(`Authorization: ${note}\r\n`);
  });

  it("replaces the token in a fetch Request's headers, and leaves Headers that cannot be changed, or hold another value, alone", () => {
    const note = redactedAuthorization(TOKEN, NOTE);
    const request = new Request('https://api.example/', { headers: { authorization: `Bearer ${TOKEN}` } });
    redactError({ request }, TOKEN, NOTE);
    expect(request.headers.get('authorization')).to.equal(note);
    const throwing = {
      headers: {
        get: () => `Bearer ${TOKEN}`,
        set: () => {
          throw new TypeError('immutable');
        },
      },
    };
    expect(() => redactError({ request: throwing }, TOKEN, NOTE)).to.not.throw();
    const own = new Request('https://api.example/', { headers: { authorization: 'Bearer users-own' } });
    const none = new Request('https://api.example/');
    redactError({ request: own, response: { request: none } }, TOKEN, NOTE);
    expect(own.headers.get('authorization')).to.equal('Bearer users-own');
    expect(none.headers.get('authorization')).to.equal(null);
  });

  it("redacts the response side too: its own config and request, when they are other objects than the error's", () => {
    const responseConfig = { headers: new AxiosHeaders({ Authorization: `Bearer ${TOKEN}` }) };
    const responseRequest = { _header: `Authorization: Bearer ${TOKEN}\r\n` };
    redactError({ config: { headers: new AxiosHeaders() }, response: { config: responseConfig, request: responseRequest } }, TOKEN, NOTE);
    expect(responseConfig.headers.get('Authorization')).to.equal(redactedAuthorization(TOKEN, NOTE));
    expect(responseRequest._header).to.not.include(TOKEN);
  });

  it('changes nothing, and adds no property, where the token is not, whatever the shape (nulls, missing parts, other values)', () => {
    const shapes = () => ({
      config: { headers: { Accept: 'application/json', Authorization: 'Basic abc' } },
      request: {
        method: 'GET',
        outputData: [null, { data: 'no secret here' }, 'text'],
        socket: null,
        _options: null,
        _currentRequest: { _header: 'GET / HTTP/1.1\r\n\r\n', socket: { request: null, _pendingData: null }, headers: { get: 'not a function' } },
        _redirectable: { _currentRequest: undefined, _options: { headers: null } },
        [Symbol('kOutHeaders')]: null,
      },
      response: { config: { headers: null }, request: { [Symbol('kOutHeaders')]: { accept: ['Accept', '*/*'], odd: null }, headers: null, socket: {} } },
    });
    const error = shapes();
    expect(() => redactError(error, TOKEN, NOTE)).to.not.throw();
    expect(inspect(error, { depth: Infinity })).to.equal(inspect(shapes(), { depth: Infinity }));
    for (const odd of [{}, { config: {}, request: 'req', response: { request: 42 } }]) {
      expect(() => redactError(odd, TOKEN, NOTE)).to.not.throw();
    }
    const header = { _header: `Authorization: Bearer ${TOKEN}\r\n` };
    redactError({ request: { _currentRequest: header, _options: undefined } }, TOKEN, NOTE);
    expect(header._header).to.include(TOKEN); // no follow-redirects wrapper: _currentRequest alone is nobody's
  });

  it('does nothing for an empty token', () => {
    const config = { headers: { Authorization: 'Bearer ', Accept: 'application/json' } };
    const native = { _header: 'GET / HTTP/1.1\r\nAuthorization: Bearer \r\n\r\n' };
    redactError({ config, request: native }, '', NOTE);
    expect(config.headers).to.deep.equal({ Authorization: 'Bearer ', Accept: 'application/json' });
    expect(native._header).to.equal('GET / HTTP/1.1\r\nAuthorization: Bearer \r\n\r\n');
  });

  it('keeps the token out of every view a logger takes of a real AxiosError: message, stack, toJSON, JSON.stringify, util.inspect', () => {
    const config = { headers: new AxiosHeaders({ Authorization: `Bearer ${TOKEN}` }), url: '/things', method: 'get' } as InternalAxiosRequestConfig;
    const message = new OutgoingMessage();
    message.setHeader('Authorization', `Bearer ${TOKEN}`);
    const request = Object.assign(message, { _header: `GET /things HTTP/1.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n` });
    const error = new AxiosError('Request failed with status code 500', 'ERR_BAD_RESPONSE', config, request, {
      status: 500,
      statusText: 'Internal Server Error',
      headers: {},
      config,
      request,
      data: {},
    });
    redactError(error, TOKEN, NOTE);
    const views = [error.message, error.stack, JSON.stringify(error), JSON.stringify(error.toJSON()), inspect(error, { depth: Infinity, showHidden: true })];
    for (const view of views) expect(view).to.not.include(TOKEN);
    expect(inspect(error, { depth: Infinity })).to.include(`sha256 ${digest}`);
  });

  it('reads the bearer token of a config: AxiosHeaders or plain headers either case, none for another scheme, the note or no headers', () => {
    expect(bearerOf({ headers: new AxiosHeaders({ authorization: 'Bearer abc' }) })).to.equal('abc');
    expect(bearerOf({ headers: { Authorization: 'Bearer abc' } })).to.equal('abc');
    expect(bearerOf({ headers: { authorization: 'Bearer abc' } })).to.equal('abc');
    expect(bearerOf({ headers: { Authorization: 'Bearer abc', authorization: 'Bearer other' } })).to.equal('abc');
    for (const headers of [{ Authorization: 'Basic abc' }, { Authorization: 'bearer abc' }, { Authorization: ['Bearer abc'] }, {}, null, 'Bearer abc', undefined]) {
      expect(bearerOf({ headers })).to.equal(undefined);
    }
    expect(bearerOf(undefined)).to.equal(undefined);
    expect(bearerOf({ headers: { Authorization: redactedAuthorization(TOKEN, NOTE) } })).to.equal(undefined);
  });

  it('does not trip over what Node and the libraries leave: a number header value, a wrapper without headers, a null request', () => {
    const message = new OutgoingMessage();
    message.setHeader('Content-Length', 12);
    message.setHeader('Authorization', `Bearer ${TOKEN}`);
    const wrapper = { _options: {}, _currentRequest: { _header: `Authorization: Bearer ${TOKEN}\r\n` } };
    expect(() => redactError({ request: message, response: { request: { socket: { request: null } } } }, TOKEN, NOTE)).to.not.throw();
    expect(() => redactError({ request: wrapper }, TOKEN, NOTE)).to.not.throw();
    expect(message.getHeaders()).to.deep.equal({ 'content-length': 12, authorization: redactedAuthorization(TOKEN, NOTE) });
    expect(wrapper._currentRequest._header).to.not.include(TOKEN);
  });
});
