import { expect } from 'chai';
import nock from 'nock';
import { TokenError } from '../../lib/errors.js';
import { parseEndpoint } from '../../lib/http/endpoint.js';
import { TokenClient } from '../../lib/http/token-client.js';
import { useNock } from '../support/nock.js';

const ORIGIN = 'https://login.example';
const PATH = '/introspect';
const endpoint = parseEndpoint(`${ORIGIN}${PATH}`, 'the endpoint');

describe('TokenClient.send()', () => {
  useNock();

  it('returns the raw body of a successful answer, whatever JSON it is', async () => {
    const answer = JSON.stringify({ active: true, sub: 'x', nested: { a: [1, 2] } });
    let sent: unknown;
    nock(ORIGIN)
      .post(PATH, (b) => ((sent = b), true))
      .matchHeader('content-type', /^application\/json/)
      .reply(200, answer, { 'content-type': 'application/json' });
    const client = new TokenClient(endpoint, { retries: 0 });
    const body = await client.send({ subject: 'introspection of a token', format: 'json', body: { identity_provider: 'entra_id', token: 't' } });
    expect(body).to.equal(answer);
    expect(sent).to.deep.equal({ identity_provider: 'entra_id', token: 't' });
  });

  it('names the request by its subject in errors, and keeps no scope when none was given', async () => {
    nock(ORIGIN).post(PATH).reply(400, { error: 'invalid_request', error_description: 'token is missing' });
    const client = new TokenClient(endpoint, { retries: 0 });
    const error = (await client
      .send({ subject: 'introspection of a token', format: 'form', body: { token: '' } })
      .catch((e: unknown) => e)) as TokenError;
    expect(error).to.be.instanceOf(TokenError);
    expect(error.message).to.equal(`introspection of a token failed: 400 invalid_request: token is missing (${ORIGIN}${PATH})`);
    expect(error).to.deep.include({ code: 'invalid_request', status: 400, description: 'token is missing' });
    expect(error).to.not.have.property('scope');
  });

  it('names a token request by its scope by default, and keeps the scope', async () => {
    nock(ORIGIN).post(PATH).reply(400, { error: 'invalid_scope' });
    const client = new TokenClient(endpoint, { retries: 0 });
    const error = (await client.send({ scope: 'api://x/.default', format: 'json', body: {} }).catch((e: unknown) => e)) as TokenError;
    expect(error.message).to.equal(`token request for api://x/.default failed: 400 invalid_scope (${ORIGIN}${PATH})`);
    expect(error.scope).to.equal('api://x/.default');
  });

  it('scrubs the secrets of a sent request from an echoed error', async () => {
    nock(ORIGIN).post(PATH).reply(400, (_uri, body) => ({ error: 'invalid_request', error_description: `got ${JSON.stringify(body)}` }));
    const client = new TokenClient(endpoint, { retries: 0 });
    const error = (await client
      .send({ subject: 'introspection of a token', format: 'json', secrets: ['the-user-token'], body: { token: 'the-user-token' } })
      .catch((e: unknown) => e)) as TokenError;
    expect(error.message).to.include('[REDACTED]').and.not.include('the-user-token');
  });
});

describe('TokenClient.post()', () => {
  useNock();

  it('parses the token of a successful answer', async () => {
    nock(ORIGIN).post(PATH).reply(200, { access_token: 'abc', token_type: 'Bearer', expires_in: 3600 });
    const token = await new TokenClient(endpoint, { retries: 0 }).post({ scope: 's', format: 'form', body: {} });
    expect(token.token).to.equal('abc');
  });

  it('refuses a 200 answer without a token, with code bad_response', async () => {
    nock(ORIGIN).post(PATH).reply(200, { active: true });
    const error = (await new TokenClient(endpoint, { retries: 0 })
      .post({ scope: 's', format: 'form', body: {} })
      .catch((e: unknown) => e)) as TokenError;
    expect(error).to.deep.include({ code: 'bad_response', status: 200 });
    expect(error.message).to.equal(`token request for s failed: 200 answer unusable: no access_token (${ORIGIN}${PATH})`);
  });
});
