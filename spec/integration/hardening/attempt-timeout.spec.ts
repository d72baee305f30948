import { expect } from 'chai';
import nock from 'nock';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { texas } from '../../../lib/sources/texas.js';

// attemptTimeout bounds a whole attempt, from the request to the last byte of the answer: an
// endpoint that sends 200 and its headers at once, then the body one byte at a time, is cut, and
// the attempt retried. The deadline (the cache's timeout) still ends everything, and is final.

const SCOPE = 'api://dev-gcp.team.api/.default';
const GOOD = JSON.stringify({ access_token: 'good-token', expires_in: 3599, token_type: 'Bearer' });

/** What the endpoint does with the n-th request (from 1). */
type Behaviour = (n: number, res: ServerResponse) => void;
const trickle: Behaviour = (_n, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  let i = 0;
  const timer = setInterval(() => res.write(GOOD[i++ % GOOD.length]!), 100); // never the whole body in time
  res.on('close', () => clearInterval(timer));
};
const hang: Behaviour = () => {};
const answer: Behaviour = (_n, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(GOOD);
};

describe('attemptTimeout: a whole attempt, body included', function () {
  this.timeout(20_000);
  let server: Server;
  let url: string;
  let behaviour: Behaviour = answer;
  let requests = 0;

  before(async () => {
    nock.restore();
    server = createServer((req, res) => {
      requests += 1;
      req.resume();
      behaviour(requests, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    nock.activate();
  });
  beforeEach(() => {
    requests = 0;
  });

  const source = (options: { attemptTimeout?: number; retries?: number; timeout?: number }) =>
    clientCredentials({ tokenEndpoint: url, clientId: 'c', clientSecret: 'attempt-secret', ...options });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('should have failed'),
      (e: unknown) => e as TokenError,
    );

  it('cuts an answer that trickles after its headers, and retries it: 1 + retries attempts, code timeout', async () => {
    behaviour = trickle;
    const error = await failure(source({ attemptTimeout: 300, retries: 2, timeout: 15_000 }).getToken(SCOPE));
    expect(error).to.be.instanceOf(TokenError);
    expect(error.code).to.equal('timeout');
    expect(error.message).to.equal(`token request for ${SCOPE} failed: no complete answer within 300 ms, 2 retries (${url})`);
    expect(requests).to.equal(3);
  });

  it('gets the token from the retry after a trickling attempt', async () => {
    behaviour = (n, res) => (n === 1 ? trickle(n, res) : answer(n, res));
    const token = await source({ attemptTimeout: 300, retries: 1, timeout: 15_000 }).getToken(SCOPE);
    expect(token.token).to.equal('good-token');
    expect(requests).to.equal(2);
  });

  it('cuts a trickling answer for Texas too (a JSON body)', async () => {
    behaviour = trickle;
    const error = await failure(texas({ endpoint: url, attemptTimeout: 200, retries: 0, timeout: 15_000 }).getToken(SCOPE));
    expect(error.code).to.equal('timeout');
    expect(error.message).to.equal(`token request for ${SCOPE} failed: no complete answer within 200 ms, 0 retries (${url})`);
    expect(requests).to.equal(1);
  });

  it('keeps the deadline over a trickling answer: the deadline ends it, code timeout, no further attempt', async () => {
    behaviour = trickle;
    // Attempts of 10 s and 5 retries would take a minute; the deadline of 500 ms ends the first.
    const error = await failure(source({ attemptTimeout: 10_000, retries: 5, timeout: 500 }).getToken(SCOPE));
    expect(error.code).to.equal('timeout');
    expect(error.message).to.equal(`token request for ${SCOPE} from ${url} timed out after 500 ms`);
    expect(requests).to.equal(1);
  });

  it('does not retry after the deadline (a caller abort is final, an attempt timeout is not)', async () => {
    behaviour = hang;
    const error = await failure(source({ attemptTimeout: 10_000, retries: 3, timeout: 300 }).getToken(SCOPE));
    expect(error.code).to.equal('timeout');
    // Give a wrongly retried attempt time to arrive: none does.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(requests).to.equal(1);
  });

  it('retries a hanging attempt that times out, each attempt with its own timeout', async () => {
    behaviour = (n, res) => (n <= 2 ? hang(n, res) : answer(n, res));
    const token = await source({ attemptTimeout: 200, retries: 2, timeout: 15_000 }).getToken(SCOPE);
    expect(token.token).to.equal('good-token');
    expect(requests).to.equal(3);
  });
});
