import { expect } from 'chai';
import express from 'express';
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { introspection, type TokenValidator } from '../../../lib/inbound/introspection.js';
import { requireToken } from '../../../lib/inbound/require-token.js';
import type { TexasServer } from '../../../lib/testing/texas-server.js';
import { fakeJwt } from '../../support/fake-jwt.js';
import { useTexasServer } from '../../support/testing-server.js';

// A flood of distinct junk bearer tokens against requireToken() in a real Express app, beside a
// legitimate caller, with the package's testing Texas behind a counting proxy: junk never reaches
// Texas, the caller's result is never evicted, and what does reach Texas (tokens with a JWS's shape
// but a forged signature) is bounded in flight and in sockets.

const JUNK = 50_000;
// Over HTTP the flood is far slower than the validator (a request costs milliseconds on a loaded CI
// machine, a local refusal microseconds): the 50,000 go to the validator requireToken() uses, and
// this many more through requireToken() itself, to show the 401s end to end.
const JUNK_OVER_HTTP = 1_000;
const IN_FLIGHT = 200;
const FORGED = 1_000;
const CONCURRENCY = 32; // introspection()'s default

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** An HTTP proxy in front of Texas that counts requests in flight and sockets open at once. */
async function countingProxy(target: string) {
  const upstream = new Agent({ keepAlive: true });
  const stats = { requests: 0, inFlight: 0, maxInFlight: 0, sockets: 0, openSockets: 0, maxOpenSockets: 0 };
  const server = createServer((req, res) => {
    stats.requests += 1;
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.on('close', () => void (stats.inFlight -= 1));
    const forward = request(`${target}${req.url}`, { method: req.method, headers: req.headers, agent: upstream }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  server.on('connection', (socket: Socket) => {
    stats.sockets += 1;
    stats.openSockets += 1;
    stats.maxOpenSockets = Math.max(stats.maxOpenSockets, stats.openSockets);
    socket.on('close', () => void (stats.openSockets -= 1));
  });
  const url = await listen(server);
  return {
    url,
    stats,
    close: async () => {
      await close(server);
      upstream.destroy();
    },
  };
}

/** Distinct junk of every kind the shape check refuses, in turn; all of it in the bearer alphabet. */
function junk(i: number): string {
  const id = `${i}-${(i * 2_654_435_761) % 4_294_967_296}`;
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  switch (i % 6) {
    case 0:
      return `opaque-${id}`;
    case 1:
      return `${b64({ alg: 'RS256', kid: id })}.${b64({ exp: 2_000_000_000 })}`;
    case 2:
      return fakeJwt({ jti: id }, { kid: undefined });
    case 3:
      return fakeJwt({ jti: id }, { alg: 'none' });
    case 4:
      return fakeJwt({ jti: id, exp: Math.floor(Date.now() / 1000) - 3600 });
    default:
      return fakeJwt({ jti: id, exp: undefined });
  }
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
}

describe(`a junk flood against requireToken(): ${JUNK.toLocaleString('en')} distinct junk tokens, ${IN_FLIGHT} in flight, beside a legitimate caller`, function () {
  this.timeout(60_000);
  let texas: TexasServer;
  useTexasServer((server) => (texas = server));

  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let validator: TokenValidator;
  let app: Server;
  let appUrl: string;
  const client = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT + 1 });
  before(async () => {
    proxy = await countingProxy(texas.url);
    validator = introspection({ endpoint: `${proxy.url}/api/v1/introspect`, identityProvider: 'entra_id' });
    const api = express();
    api.set('env', 'test');
    api.use('/api', requireToken({ introspection: validator }));
    api.get('/api/me', (req, res) => void res.json({ sub: req.auth?.claims.sub }));
    app = createServer(api);
    appUrl = await listen(app);
  });
  after(async () => {
    client.destroy();
    await close(app);
    await proxy.close();
  });

  const get = (token: string) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request(`${appUrl}/api/me`, { agent: client, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });

  /** What one token got: the HTTP status and challenge, or the validator's verdict. */
  const overHttp = async (token: string) => {
    const answer = await get(token);
    return `${answer.status} ${String(answer.headers['www-authenticate'])}`;
  };
  const toValidator = async (token: string) => {
    const result = await validator.validate(token);
    return result.active ? 'active' : 'inactive';
  };

  /**
   * Sends `count` tokens, `IN_FLIGHT` at a time, while the legitimate caller calls over HTTP in a
   * loop; counts the outcomes, and the caller's calls and passes.
   */
  async function flood(count: number, tokenAt: (i: number) => string, send: (token: string) => Promise<string>, legitimate: string) {
    const outcomes = new Map<string, number>();
    let next = 0;
    let done = false;
    const legit = { calls: 0, ok: 0 };
    const caller = (async () => {
      while (!done) {
        const answer = await get(legitimate);
        legit.calls += 1;
        if (answer.status === 200) legit.ok += 1;
      }
    })();
    const worker = async () => {
      while (next < count) {
        const outcome = await send(tokenAt(next++));
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    done = true;
    await caller;
    return { outcomes: Object.fromEntries(outcomes), legit };
  }

  const introspections = (token: string) => texas.requests.filter((r) => r.path === '/api/v1/introspect' && r.body.token === token).length;

  it(`asks Texas nothing for ${JUNK.toLocaleString('en')} junk tokens, and once for the legitimate caller, whose every request passes`, async () => {
    const legitimate = await texas.mintUserToken('legitimate');
    expect((await get(legitimate)).status).to.equal(200);
    const before = proxy.stats.requests;
    const { outcomes, legit } = await flood(JUNK, junk, toValidator, legitimate);
    expect(outcomes).to.deep.equal({ inactive: JUNK });
    expect(proxy.stats.requests - before, 'introspections for junk').to.equal(0);
    expect(validator.size, 'nothing kept for junk: only the caller').to.equal(1);
    expect(introspections(legitimate), "the caller's result never evicted: Texas asked once").to.equal(1);
    expect(legit.calls, 'the legitimate caller kept calling during the flood').to.be.above(0);
    expect(legit.ok).to.equal(legit.calls);
  });

  it(`answers junk through requireToken() 401 invalid_token, ${JUNK_OVER_HTTP.toLocaleString('en')} over HTTP, with no introspection`, async () => {
    const legitimate = await texas.mintUserToken('legitimate-http');
    const before = proxy.stats.requests;
    const { outcomes, legit } = await flood(JUNK_OVER_HTTP, (i) => junk(JUNK + i), overHttp, legitimate);
    expect(outcomes).to.deep.equal({ '401 Bearer error="invalid_token"': JUNK_OVER_HTTP });
    expect(proxy.stats.requests - before, "introspections: the caller's one only").to.equal(1);
    expect(introspections(legitimate)).to.equal(1);
    expect(legit.ok).to.equal(legit.calls);
  });

  it(`bounds what does reach Texas: ${FORGED.toLocaleString('en')} forged tokens of the right shape, at most ${CONCURRENCY} in flight and ${CONCURRENCY} sockets, the caller not evicted`, async () => {
    const legitimate = await texas.mintUserToken('legitimate-forged');
    expect((await get(legitimate)).status).to.equal(200);
    const stats = proxy.stats;
    Object.assign(stats, { maxInFlight: 0, maxOpenSockets: stats.openSockets });
    // A JWS's shape, this provider's kid and a fresh exp: only Texas can tell the signature is forged.
    const iat = Math.floor(Date.now() / 1000);
    const tokens = Array.from({ length: FORGED }, (_, i) =>
      fakeJwt({ jti: `forged-${i}`, iss: 'forger', aud: 'anyone', iat, exp: iat + 3600 }, { kid: 'entra_id', alg: 'ES256' }),
    );
    const { outcomes, legit } = await flood(FORGED, (i) => tokens[i]!, toValidator, legitimate);
    expect(outcomes).to.deep.equal({ inactive: FORGED });
    const asked = new Set(texas.requests.filter((r) => r.path === '/api/v1/introspect').map((r) => r.body.token));
    expect(
      tokens.filter((token) => !asked.has(token)),
      'forged tokens Texas was not asked about',
    ).to.deep.equal([]);
    expect(stats.maxInFlight, 'introspections in flight at once').to.be.at.most(CONCURRENCY);
    expect(stats.maxOpenSockets, 'sockets to Texas open at once').to.be.at.most(CONCURRENCY);
    expect(introspections(legitimate), "the caller's result never evicted: Texas asked once").to.equal(1);
    expect(legit.ok).to.equal(legit.calls);
  });
});
