import { expect } from 'chai';
import nock from 'nock';
import sinon from 'sinon';
import { TokenError } from '../../../lib/errors.js';
import { parseEndpoint } from '../../../lib/http/endpoint.js';
import { TokenClient } from '../../../lib/http/token-client.js';
import { withUserToken } from '../../../lib/context/user-token.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import { useNock } from '../../support/nock.js';

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
    const error = (await client.send({ subject: 'introspection of a token', format: 'form', body: { token: '' } }).catch((e: unknown) => e)) as TokenError;
    expect(error).to.be.instanceOf(TokenError);
    expect(error.message).to.equal(`introspection of a token failed: 400 invalid_request: token is missing (${ORIGIN}${PATH})`);
    expect(error).to.deep.include({ code: 'invalid_request', status: 400, description: 'token is missing' });
    expect(error).to.not.have.property('scope');
  });

  it('keeps an OAuth error outside the documented set as oauthError, with code unknown', async () => {
    nock(ORIGIN).post(PATH).reply(400, { error: 'invalid_dpop_proof', error_description: 'proof missing' });
    const client = new TokenClient(endpoint, { retries: 0 });
    const error = (await client.send({ subject: 'a request', format: 'json', body: {} }).catch((e: unknown) => e)) as TokenError;
    expect(error).to.deep.include({ code: 'unknown', oauthError: 'invalid_dpop_proof', status: 400, description: 'proof missing' });
    expect(error.message).to.equal(`a request failed: 400 invalid_dpop_proof: proof missing (${ORIGIN}${PATH})`);
    nock(ORIGIN).post(PATH).reply(401, { error: 'invalid_client' });
    const known = (await client.send({ subject: 'a request', format: 'json', body: {} }).catch((e: unknown) => e)) as TokenError;
    expect(known).to.deep.include({ code: 'invalid_client', oauthError: 'invalid_client' });
  });

  it('names a token request by its scope by default, and keeps the scope', async () => {
    nock(ORIGIN).post(PATH).reply(400, { error: 'invalid_scope' });
    const client = new TokenClient(endpoint, { retries: 0 });
    const error = (await client.send({ scope: 'api://x/.default', format: 'json', body: {} }).catch((e: unknown) => e)) as TokenError;
    expect(error.message).to.equal(`token request for api://x/.default failed: 400 invalid_scope (${ORIGIN}${PATH})`);
    expect(error.scope).to.equal('api://x/.default');
  });

  it('scrubs the secrets of a sent request from an echoed error', async () => {
    nock(ORIGIN)
      .post(PATH)
      .reply(400, (_uri, body) => ({ error: 'invalid_request', error_description: `got ${JSON.stringify(body)}` }));
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
    const error = (await new TokenClient(endpoint, { retries: 0 }).post({ scope: 's', format: 'form', body: {} }).catch((e: unknown) => e)) as TokenError;
    expect(error).to.deep.include({ code: 'bad_response', status: 200 });
    expect(error.message).to.equal(`token request for s failed: 200 answer unusable: no access_token (${ORIGIN}${PATH})`);
  });
});

describe('TokenClient: what an endpoint echoes back', () => {
  useNock();
  const SECRET = 'Xy48Q~secret value/with=all+kinds';
  const FORM = new URLSearchParams({ s: SECRET }).toString().slice(2);
  const client = () => new TokenClient(endpoint, { retries: 0 });
  const send = (c = client()) =>
    c.send({ scope: 's', format: 'form', secrets: [SECRET], body: { client_secret: SECRET } }).then(
      () => expect.fail('should have failed'),
      (e: unknown) => e as TokenError,
    );

  describe('the cause of a network error', () => {
    it('keeps its code and message, with the secret scrubbed in the form it was sent', async () => {
      nock(ORIGIN)
        .post(PATH)
        .replyWithError(Object.assign(new Error(`socket hang up after client_secret=${FORM}`), { code: 'ECONNRESET' }));
      const error = await send();
      expect(error).to.deep.include({ code: 'network' });
      expect(error.message).to.equal(`token request for s failed: network error ECONNRESET after 0 retries (${ORIGIN}${PATH})`);
      const cause = error.cause as Error & { code?: string };
      expect(cause.message).to.equal('socket hang up after client_secret=[REDACTED]');
      expect(cause.code).to.equal('ECONNRESET');
      expect(Object.keys(cause)).to.deep.equal(['code']); // a stand-in: nothing the original referenced
    });

    it('scrubs the secret before the message is cut, and drops a code that is no plain identifier', async () => {
      const message = `${'x'.repeat(290)} ${SECRET}`;
      nock(ORIGIN)
        .post(PATH)
        .replyWithError(Object.assign(new Error(message), { code: `E_${SECRET}` }));
      const error = await send();
      const cause = error.cause as Error & { code?: string };
      expect(cause.message).to.not.include('Xy48Q');
      expect(cause.message.startsWith('x'.repeat(290))).to.equal(true);
      expect(cause.code).to.equal(undefined);
    });
  });

  describe('support ids (trace_id, correlation_id)', () => {
    it('drops the trace id that echoes a secret and keeps a correlation id that does not', async () => {
      nock(ORIGIN).post(PATH).reply(401, { error: 'invalid_client', trace_id: FORM, correlation_id: 'corr-1' });
      const error = await send();
      expect(error).to.deep.include({ code: 'invalid_client', correlationId: 'corr-1' });
      expect(error).to.not.have.property('traceId');
    });

    it('drops the correlation id that echoes a secret (percent-encoded) and keeps a trace id that does not', async () => {
      nock(ORIGIN)
        .post(PATH)
        .reply(401, { error: 'invalid_client', trace_id: 'trace-1', correlation_id: encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()) });
      const error = await send();
      expect(error).to.deep.include({ code: 'invalid_client', traceId: 'trace-1' });
      expect(error).to.not.have.property('correlationId');
    });

    it('keeps both when neither echoes anything', async () => {
      nock(ORIGIN).post(PATH).reply(401, { error: 'invalid_client', trace_id: 'trace-2', correlation_id: 'corr-2' });
      expect(await send()).to.deep.include({ traceId: 'trace-2', correlationId: 'corr-2' });
    });
  });

  describe("the user's token sent for an exchange", () => {
    const USER_TOKEN = 'user+token/with==~ odd "chars"';
    for (const bodyFormat of ['json', 'form'] as const) {
      it(`is scrubbed from an echoed description (${bodyFormat} body), the rest of it kept`, async () => {
        nock(ORIGIN)
          .post(PATH)
          .reply(400, (_uri, body) => ({ error: 'invalid_grant', error_description: `bad token in ${typeof body === 'string' ? body : JSON.stringify(body)}` }));
        const exchange = onBehalfOf({ endpoint: `${ORIGIN}${PATH}`, bodyFormat, retries: 0 });
        const error = (await withUserToken(USER_TOKEN, () => exchange.getToken('api://x/.default')).catch((e: unknown) => e)) as TokenError;
        expect(error).to.deep.include({ code: 'invalid_grant', status: 400 });
        expect(error.description).to.include('[REDACTED]').and.include('bad token in ').and.include('identity_provider');
        expect(error.description).to.not.include('user+token').and.not.include('user%2Btoken');
        expect(error.message).to.not.include('user+token').and.not.include('user%2Btoken');
      });
    }
  });
});

describe('TokenClient: time', () => {
  useNock();
  const GOOD = { access_token: 'good', token_type: 'Bearer', expires_in: 10 };

  it('counts a token from the attempt that got it, not from the first attempt', async () => {
    let failedAt = 0;
    nock(ORIGIN)
      .post(PATH)
      .reply(() => ((failedAt = Date.now()), [503, { error: 'temporarily_unavailable' }]))
      .post(PATH)
      .delay(300)
      .reply(200, GOOD);
    const token = await new TokenClient(endpoint, { retries: 1 }).post({ scope: 's', format: 'form', body: {} });
    const answeredBy = Date.now();
    // expires_in 10 is 9 s of use; the retry went out after a backoff of at least 400 ms after the
    // 503, and its answer took at least 300 ms: counted from when the retry was sent.
    expect(token.expiresAt).to.be.at.least(failedAt + 9_000 + 400);
    expect(token.expiresAt).to.be.at.most(answeredBy - 300 + 9_000);
  });

  it("makes the next request wait for the endpoint's last Retry-After, though the fetch that got it has ended", async () => {
    let throttledAt = 0;
    let nextAt = 0;
    nock(ORIGIN)
      .post(PATH)
      .reply(() => ((throttledAt = Date.now()), [429, { error: 'too_many_requests' }, { 'retry-after': '1' }]))
      .post(PATH)
      .reply(() => ((nextAt = Date.now()), [200, GOOD]));
    const client = new TokenClient(endpoint, { retries: 0 });
    const error = (await client.post({ scope: 's', format: 'form', body: {} }).catch((e: unknown) => e)) as TokenError;
    expect(error).to.include({ code: 'unknown', oauthError: 'too_many_requests', status: 429 });
    expect((await client.post({ scope: 's', format: 'form', body: {} })).token).to.equal('good');
    expect(nextAt - throttledAt).to.be.at.least(900); // waited as asked (a lower bound, not a timing)
  });

  describe('a step of the wall clock (NTP, a VM restore) while a Retry-After is pending', () => {
    let clock: sinon.SinonFakeTimers | undefined;
    afterEach(() => clock?.restore());

    it('does not block the next request for the length of a 2 h step back', async () => {
      nock(ORIGIN).post(PATH).reply(429, { error: 'too_many_requests' }, { 'retry-after': '1' }).post(PATH).reply(200, GOOD);
      const client = new TokenClient(endpoint, { retries: 0 });
      await client.post({ scope: 's', format: 'form', body: {} }).catch(() => {});
      clock = sinon.useFakeTimers({ now: Date.now() - 2 * 3_600_000, toFake: ['Date'], shouldAdvanceTime: true });
      // On the wall clock the wait would now end in 2 h; the deadline ends it with timeout after 10 s.
      const answer = await client.post({ scope: 's', format: 'form', body: {}, signal: AbortSignal.timeout(10_000) });
      expect(answer.token).to.equal('good');
    });

    it('still waits as asked after a 2 h step forward', async () => {
      let throttledAt = 0;
      let nextAt = 0;
      nock(ORIGIN)
        .post(PATH)
        .reply(() => ((throttledAt = performance.now()), [429, { error: 'too_many_requests' }, { 'retry-after': '1' }]))
        .post(PATH)
        .reply(() => ((nextAt = performance.now()), [200, GOOD]));
      const client = new TokenClient(endpoint, { retries: 0 });
      await client.post({ scope: 's', format: 'form', body: {} }).catch(() => {});
      clock = sinon.useFakeTimers({ now: Date.now() + 2 * 3_600_000, toFake: ['Date'], shouldAdvanceTime: true });
      expect((await client.post({ scope: 's', format: 'form', body: {} })).token).to.equal('good');
      expect(nextAt - throttledAt).to.be.at.least(900); // waited as asked (a lower bound, not a timing)
    });
  });

  it('does not hold the next request for a Retry-After longer than maxRetryAfter (that answer failed with throttled)', async () => {
    nock(ORIGIN).post(PATH).reply(503, { error: 'temporarily_unavailable' }, { 'retry-after': '120' }).post(PATH).reply(200, GOOD);
    const client = new TokenClient(endpoint, { retries: 0, maxRetryAfter: 30_000 });
    expect(await client.post({ scope: 's', format: 'form', body: {} }).catch((e: unknown) => e)).to.include({ code: 'throttled', status: 503 });
    expect((await client.post({ scope: 's', format: 'form', body: {} })).token).to.equal('good');
  });

  it("ends the wait for a Retry-After with the caller's signal (the deadline)", async () => {
    nock(ORIGIN).post(PATH).reply(429, { error: 'too_many_requests' }, { 'retry-after': '20' });
    const client = new TokenClient(endpoint, { retries: 0 });
    await client.post({ scope: 's', format: 'form', body: {} }).catch(() => {});
    const deadline = new AbortController();
    const waiting = client.post({ scope: 's', format: 'form', body: {}, signal: deadline.signal }).catch((e: unknown) => e);
    const reason = new TokenError('timeout', 'token request for s timed out after 30000 ms');
    deadline.abort(reason);
    expect(await waiting).to.equal(reason);
  });
});
