import { expect } from 'chai';
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import nock from 'nock';
import sinon from 'sinon';
import { captureUserToken } from '../../../lib/context/express.js';
import { currentUserToken, inEndedUserContext, withUserToken } from '../../../lib/context/user-token.js';
import { TokenError } from '../../../lib/errors.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import { useNock } from '../../support/nock.js';

// Stand-ins for what Express hands a middleware: a request with headers, a response that emits
// `close` (an EventEmitter, as Node's ServerResponse is), and next.

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const ORIGIN = 'http://127.0.0.1:7164';
const PATH = '/api/v1/token/exchange';
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What code bound to the current context sees when it runs later (a socket's callback, say). */
const reader = () => AsyncResource.bind(() => [currentUserToken(), inEndedUserContext()]);

/** Runs the middleware for one request; resolves with what `next` saw, and how it was called. */
function handle(authorization: string | string[] | undefined, res: unknown = new EventEmitter()) {
  const next = sinon.spy(() => ({ token: currentUserToken(), read: reader() }));
  const returned: unknown = captureUserToken()({ headers: authorization === undefined ? {} : { authorization } }, res, next);
  return { next, returned, seen: next.returnValues[0] };
}

describe('captureUserToken() (Express middleware)', () => {
  it("calls next() once, with no argument, in a context whose user token is the request's bearer token", () => {
    const { next, returned, seen } = handle('Bearer user-a');
    expect(next.callCount).to.equal(1);
    // Express reads next(anything) as an error and skips to its error handlers.
    expect(next.firstCall.args).to.deep.equal([]);
    expect(seen?.token).to.equal('user-a');
    expect(returned).to.equal(undefined);
    expect(currentUserToken(), 'outside the middleware').to.equal(undefined);
  });

  it('keeps the token for the work next() starts: awaits, timers, later callbacks', async () => {
    const seen = await new Promise<(string | undefined)[]>((resolve) => {
      captureUserToken()({ headers: { authorization: 'Bearer user-a' } }, new EventEmitter(), () => {
        const now = currentUserToken();
        setTimeout(() => void tick().then(() => resolve([now, currentUserToken()])), 0);
      });
    });
    expect(seen).to.deep.equal(['user-a', 'user-a']);
  });

  it("reads the header by the package's one Bearer rule", () => {
    expect(handle('bearer   user-a').seen?.token).to.equal('user-a');
    expect(handle(['Bearer user-a']).seen?.token).to.equal('user-a');
    // What withUserToken() would take, but a header is held to RFC 6750: not a user's token.
    expect(handle('Bearer\tuser-a').seen?.token).to.equal(undefined);
    expect(handle('Bearer user-a, Bearer user-b').seen?.token).to.equal(undefined);
    expect(handle(['Bearer user-a', 'Bearer user-b']).seen?.token).to.equal(undefined);
  });

  it('passes a request without a bearer token through (next() once, no error) with no user token, not an outer one', () => {
    for (const authorization of [undefined, 'Basic dXNlcjpwYXNz', 'Bearer', '']) {
      const { next, seen } = withUserToken('someone-else', () => handle(authorization));
      expect(next.callCount, String(authorization)).to.equal(1);
      expect(next.firstCall.args, String(authorization)).to.deep.equal([]);
      expect(seen?.token, String(authorization)).to.equal(undefined);
    }
  });

  it('ends the context when the response closes: what was bound in it gets no token afterwards', () => {
    const res = new EventEmitter();
    const { seen } = handle('Bearer user-a', res);
    expect(seen?.read()).to.deep.equal(['user-a', false]);
    res.emit('close');
    expect(seen?.read()).to.deep.equal([undefined, true]);
  });

  it("ends only this request's context: another request's stays open", () => {
    const first = new EventEmitter();
    const second = new EventEmitter();
    const a = handle('Bearer user-a', first).seen;
    const b = handle('Bearer user-b', second).seen;
    first.emit('close');
    expect(a?.read()).to.deep.equal([undefined, true]);
    expect(b?.read()).to.deep.equal(['user-b', false]);
  });

  it('leaves the context open for a response that cannot be watched (no once)', () => {
    const { seen } = handle('Bearer user-a', {});
    expect(seen?.read()).to.deep.equal(['user-a', false]);
  });

  it('lets an error thrown by next() reach Express, which passes it to the error handlers', () => {
    const error = new Error('route failed');
    const res = new EventEmitter();
    expect(() =>
      captureUserToken()({ headers: { authorization: 'Bearer user-a' } }, res, () => {
        throw error;
      }),
    ).to.throw(error);
  });

  describe('an exchange on behalf of the user', () => {
    useNock();

    it("while the request is open exchanges the request's bearer token", async () => {
      const bodies: unknown[] = [];
      nock(ORIGIN)
        .post(PATH, (body) => (bodies.push(body), true))
        .reply(200, { access_token: 'obo-token', expires_in: 3599, token_type: 'Bearer' });
      const source = onBehalfOf({ endpoint: `${ORIGIN}${PATH}` });
      const token = await new Promise((resolve, reject) => {
        captureUserToken()({ headers: { authorization: 'Bearer user-a' } }, new EventEmitter(), () => void source.getToken(SCOPE).then(resolve, reject));
      });
      expect(token).to.include({ token: 'obo-token' });
      expect(bodies).to.deep.equal([{ identity_provider: 'entra_id', target: SCOPE, user_token: 'user-a' }]);
    });

    it("after the response has closed is no_user_token, without a request, never the request's user", async () => {
      // No nock reply: an exchange that left would fail with code network instead.
      const source = onBehalfOf({ endpoint: `${ORIGIN}${PATH}` });
      const res = new EventEmitter();
      let later: () => Promise<unknown> = () => Promise.resolve();
      captureUserToken()({ headers: { authorization: 'Bearer user-a' } }, res, () => {
        later = AsyncResource.bind(() => source.getToken(SCOPE));
      });
      res.emit('close');
      const error: unknown = await later().then(
        () => expect.fail('exchanged after the response closed'),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(TokenError).and.include({ code: 'no_user_token' });
      expect((error as Error).message)
        .to.include('belongs to a request that has ended')
        .and.not.include('user-a');
    });
  });
});
