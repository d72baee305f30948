import { AxiosHeaders } from 'axios';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
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
});
