import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import nock from 'nock';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';

// How the token request behaves when the endpoint is flaky, slow, throttling or redirecting.

const SCOPE = 'api://dev-gcp.team.api/.default';
const SECRET = 'fault-secret-8d2a41';
const GOOD = { access_token: 'good-token', expires_in: 3599, token_type: 'Bearer' };
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('should have failed'),
    (e: unknown) => e as TokenError,
  );

function noSecret(error: unknown): void {
  expect(inspect(error, { depth: Infinity, showHidden: true })).to.not.include(SECRET);
  expect(JSON.stringify(error)).to.not.include(SECRET);
}

describe('token endpoint faults', function () {
  describe('with real servers', () => {
    let hanging: Server;
    let redirecting: Server;
    let target: Server;
    let targetHits = 0;
    let hangingHits = 0;
    const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    before(async () => {
      nock.restore(); // real sockets here
      hanging = createServer(() => {
        hangingHits += 1; // accepts, never answers
      });
      target = createServer((req, res) => {
        targetHits += 1;
        req.resume();
        res.end(JSON.stringify(GOOD));
      });
      redirecting = createServer((req, res) => {
        req.resume();
        res.writeHead(307, { location: `${url(target)}/token` });
        res.end();
      });
      for (const server of [hanging, target, redirecting]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      for (const server of [hanging, target, redirecting]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      nock.activate();
    });

    it('ends a hanging endpoint in code timeout, within the deadline', async () => {
      const before = hangingHits;
      const error = await failure(
        clientCredentials({ tokenEndpoint: `${url(hanging)}/token`, clientId: 'c', clientSecret: SECRET, attemptTimeout: 200, retries: 5, timeout: 1_000 }).getToken(
          SCOPE,
        ),
      );
      expect(error).to.be.instanceOf(TokenError);
      expect(error.code).to.equal('timeout');
      // The deadline ended it, not the attempts running out: 6 attempts of 200 ms and the backoff
      // between them take over 6 s, so they cannot all have gone out within 1 s, however slow the
      // machine (slowness only means fewer attempts before the deadline).
      expect(error.message).to.include('timed out after 1000 ms');
      expect(hangingHits - before).to.be.within(1, 5);
      noSecret(error);
    });

    it('retries attempts that time out, each with its own timeout', async () => {
      const error = await failure(
        clientCredentials({ tokenEndpoint: `${url(hanging)}/token`, clientId: 'c', clientSecret: SECRET, attemptTimeout: 100, retries: 1, timeout: 10_000 }).getToken(
          SCOPE,
        ),
      );
      expect(error.code).to.equal('timeout');
      expect(error.message).to.include('no complete answer within 100 ms, 1 retries');
    });

    it('does not follow a redirect: the secret never reaches another host', async () => {
      const error = await failure(clientCredentials({ tokenEndpoint: `${url(redirecting)}/token`, clientId: 'c', clientSecret: SECRET, retries: 0 }).getToken(SCOPE));
      expect(error).to.include({ code: 'bad_response', status: 307 });
      expect(error.message).to.include('redirects are not followed');
      expect(targetHits).to.equal(0);
    });
  });
});
