import { expect } from 'chai';
import { request } from 'node:http';
import nock from 'nock';
import { startTexasServer } from '../../../lib/testing/texas-server.js';

// close() with a request still waiting on the simulated upstream must leave no timer behind: a
// timer would keep the process (a test runner, a demo) alive for the rest of the delay.

const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

describe('startTexasServer: close() with a request in flight', () => {
  before(() => nock.restore());
  after(() => nock.activate());

  it('clears the upstreamDelayMs timer of a pending mint', async () => {
    const server = await startTexasServer({ upstreamDelayMs: 600_000 });
    const before = timers();
    const body = JSON.stringify({ identity_provider: 'entra_id', target: 'api://x/.default' });
    const req = request(server.tokenEndpoint, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
    const ended = new Promise<void>((resolve) => {
      req.on('error', () => resolve());
      req.on('response', (res) => res.resume().on('end', resolve).on('error', resolve));
    });
    req.end(body);
    // Wait (by polling, not by time) until the server is inside the simulated upstream delay.
    while (timers() <= before) await new Promise((resolve) => setImmediate(resolve));
    await server.close();
    await ended;
    expect(timers()).to.equal(before);
  });
});
