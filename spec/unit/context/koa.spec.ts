import { expect } from 'chai';
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import nock from 'nock';
import sinon from 'sinon';
import { captureUserTokenKoa, type KoaContextLike } from '../../../lib/context/koa.js';
import { currentUserToken, inEndedUserContext, withUserToken } from '../../../lib/context/user-token.js';
import { TokenError } from '../../../lib/errors.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import { useNock } from '../../support/nock.js';

// Stand-ins for what Koa hands a middleware: a ctx with the request's headers and Node's response
// as ctx.res (an EventEmitter that emits `close`, as ServerResponse does), and next.

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const ORIGIN = 'http://127.0.0.1:7164';
const PATH = '/api/v1/token/exchange';
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What code bound to the current context sees when it runs later (a socket's callback, say). */
const reader = () => AsyncResource.bind(() => [currentUserToken(), inEndedUserContext()]);

function ctxOf(authorization: string | string[] | undefined, res: KoaContextLike['res'] = new EventEmitter()): KoaContextLike {
  return { headers: authorization === undefined ? {} : { authorization }, res };
}

/** Runs the middleware for one request; resolves with what downstream saw, and how next was called. */
async function handle(authorization: string | string[] | undefined, res?: KoaContextLike['res']) {
  const next = sinon.spy(async () => {
    await tick();
    return { token: currentUserToken(), read: reader() };
  });
  const seen = await captureUserTokenKoa()(ctxOf(authorization, res), next);
  return { next, seen: seen as { token: string | undefined; read: () => unknown[] } };
}

describe('captureUserTokenKoa() (Koa middleware)', () => {
  it("calls next() once and runs downstream, across awaits, with the request's bearer token", async () => {
    const { next, seen } = await handle('Bearer user-k');
    expect(next.callCount).to.equal(1);
    expect(next.firstCall.args).to.deep.equal([]);
    expect(seen.token).to.equal('user-k');
    expect(currentUserToken(), 'outside the middleware').to.equal(undefined);
  });

  it("returns next()'s promise: Koa waits for downstream before it answers", async () => {
    const downstream = Promise.resolve('downstream');
    const returned = captureUserTokenKoa()(ctxOf('Bearer user-k'), () => downstream);
    expect(returned).to.equal(downstream);
    expect(await returned).to.equal('downstream');
  });

  it("reads the header by the package's one Bearer rule", async () => {
    expect((await handle('bearer   user-k')).seen.token).to.equal('user-k');
    expect((await handle(['Bearer user-k'])).seen.token).to.equal('user-k');
    // What withUserToken() would take, but a header is held to RFC 6750: not a user's token.
    expect((await handle('Bearer\tuser-k')).seen.token).to.equal(undefined);
    expect((await handle('Bearer user-k, Bearer user-l')).seen.token).to.equal(undefined);
    expect((await handle(['Bearer user-k', 'Bearer user-l'])).seen.token).to.equal(undefined);
  });

  it('passes a request without a bearer token through (next() once) with no user token, not an outer one', async () => {
    for (const authorization of [undefined, 'Basic dXNlcjpwYXNz', 'Bearer', '']) {
      const { next, seen } = await withUserToken('outer', () => handle(authorization));
      expect(next.callCount, String(authorization)).to.equal(1);
      expect(seen.token, String(authorization)).to.equal(undefined);
    }
  });

  it('ends the context when ctx.res closes: what was bound in it gets no token afterwards', async () => {
    const res = new EventEmitter();
    const { seen } = await handle('Bearer user-k', res);
    expect(seen.read()).to.deep.equal(['user-k', false]);
    res.emit('close');
    expect(seen.read()).to.deep.equal([undefined, true]);
  });

  it("ends only this request's context: another request's stays open", async () => {
    const first = new EventEmitter();
    const second = new EventEmitter();
    const a = (await handle('Bearer user-k', first)).seen;
    const b = (await handle('Bearer user-l', second)).seen;
    first.emit('close');
    expect(a.read()).to.deep.equal([undefined, true]);
    expect(b.read()).to.deep.equal(['user-l', false]);
  });

  it('leaves the context open for a ctx without res (a test stand-in)', async () => {
    const next = async () => reader();
    const read = (await captureUserTokenKoa()({ headers: { authorization: 'Bearer user-k' } }, next)) as () => unknown[];
    expect(read()).to.deep.equal(['user-k', false]);
  });

  it("rejects with downstream's error, as Koa expects, for its error handling to answer", async () => {
    const error = new Error('route failed');
    const returned = captureUserTokenKoa()(ctxOf('Bearer user-k'), () => Promise.reject(error));
    expect(
      await returned.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    ).to.equal(error);
  });

  describe('an exchange on behalf of the user', () => {
    useNock();

    it("while the request is open exchanges the request's bearer token", async () => {
      const bodies: unknown[] = [];
      nock(ORIGIN)
        .post(PATH, (body) => (bodies.push(body), true))
        .reply(200, { access_token: 'obo-token', expires_in: 3599, token_type: 'Bearer' });
      const source = onBehalfOf({ endpoint: `${ORIGIN}${PATH}` });
      const token = await captureUserTokenKoa()(ctxOf('Bearer user-k'), () => source.getToken(SCOPE));
      expect(token).to.include({ token: 'obo-token' });
      expect(bodies).to.deep.equal([{ identity_provider: 'entra_id', target: SCOPE, user_token: 'user-k' }]);
    });

    it("after ctx.res has closed is no_user_token, without a request, never the request's user", async () => {
      // No nock reply: an exchange that left would fail with code network instead.
      const source = onBehalfOf({ endpoint: `${ORIGIN}${PATH}` });
      const res = new EventEmitter();
      const later = (await captureUserTokenKoa()(ctxOf('Bearer user-k', res), async () => AsyncResource.bind(() => source.getToken(SCOPE)))) as () => Promise<unknown>;
      res.emit('close');
      const error: unknown = await later().then(
        () => expect.fail('exchanged after the response closed'),
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(TokenError).and.include({ code: 'no_user_token' });
      expect((error as Error).message)
        .to.include('belongs to a request that has ended')
        .and.not.include('user-k');
    });
  });
});
