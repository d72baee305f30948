import { AxiosError, AxiosHeaders, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { inspect } from 'node:util';
import { TokenError } from '../../../lib/errors.js';
import { toTokenError, type Boundary } from '../../../lib/http/error-boundary.js';

const SECRET = 'boundary-secret-0123456789';
const boundary: Boundary = {
  endpoint: 'https://login.example/t/oauth2/v2.0/token',
  attemptTimeout: 10_000,
  retries: 3,
  maxRetryAfter: 30_000,
  maxResponseSize: 65_536,
  secrets: [],
};
const request = { scope: 'api://x/.default', format: 'form' as const, body: { client_secret: SECRET }, secrets: [SECRET] };

/** An axios error as axios makes it: the config holds the body that was sent, secret included. */
function axiosError(status: number | undefined, data: string, headers: Record<string, string> = {}, code?: string): AxiosError {
  const config = { headers: new AxiosHeaders(), data: `client_secret=${SECRET}` } as InternalAxiosRequestConfig;
  const response = status === undefined ? undefined : ({ status, statusText: '', data, headers: new AxiosHeaders(headers), config } as AxiosResponse);
  return new AxiosError(status === undefined ? 'connect ECONNREFUSED' : `Request failed with status code ${status}`, code, config, {}, response);
}

const everything = (error: unknown) => inspect(error, { depth: Infinity, showHidden: true }) + JSON.stringify(error);

describe('the token client error boundary (toTokenError)', () => {
  it("keeps an OAuth error answer's code, status and support ids, with the sent secret scrubbed", () => {
    const body = JSON.stringify({ error: 'invalid_client', error_description: `AADSTS7000215: bad secret ${SECRET}`, error_codes: [7000215], trace_id: 't' });
    const error = toTokenError(axiosError(401, body), request, boundary);
    expect(error).to.be.instanceOf(TokenError);
    expect(error).to.deep.include({ code: 'invalid_client', oauthError: 'invalid_client', status: 401, errorCodes: [7000215], traceId: 't' });
    expect(error.message).to.match(/^token request for api:\/\/x\/\.default failed: 401 invalid_client: AADSTS7000215: bad secret /);
    expect(everything(error)).to.not.include(SECRET);
  });

  it('makes a redirect, an HTML page and a Retry-After over the limit bad_response, bad_response and throttled', () => {
    expect(toTokenError(axiosError(302, ''), request, boundary)).to.include({ code: 'bad_response', status: 302 });
    expect(toTokenError(axiosError(302, ''), request, boundary).message).to.include('302 redirects are not followed');
    const html = toTokenError(axiosError(502, '<html>', { 'content-type': 'text/html; charset=utf-8' }), request, boundary);
    expect(html.message).to.include('502 not an OAuth error answer (text/html)');
    const throttled = toTokenError(axiosError(429, '{}', { 'retry-after': '120' }), request, boundary);
    expect(throttled).to.deep.include({ code: 'throttled', status: 429, retryAfter: 120_000 });
  });

  it('makes a failure without an answer network, keeping only a scrubbed message and code as the cause', () => {
    const error = toTokenError(axiosError(undefined, '', {}, 'ECONNREFUSED'), request, boundary);
    expect(error).to.include({ code: 'network' });
    expect(error.message).to.include('network error ECONNREFUSED after 3 retries');
    expect((error.cause as Error & { code?: string }).code).to.equal('ECONNREFUSED');
    expect(everything(error)).to.not.include(SECRET);
    const odd = toTokenError(new Error(`odd ${SECRET}`), request, boundary);
    expect(odd).to.include({ code: 'network' });
    expect(everything(odd)).to.not.include(SECRET);
  });

  it('passes a TokenError through as it is', () => {
    const own = new TokenError('timeout', 'deadline');
    expect(toTokenError(own, request, boundary)).to.equal(own);
  });
});
