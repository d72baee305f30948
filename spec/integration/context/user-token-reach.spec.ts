import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import axios, { type AxiosInstance } from 'axios';
import express from 'express';
import Koa from 'koa';
import nock from 'nock';
import { captureUserToken } from '../../../lib/context/express.js';
import { captureUserTokenKoa } from '../../../lib/context/koa.js';
import { withUserToken } from '../../../lib/context/user-token.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';

// In 0.1.0 an AxiosError from an API called inside a user's context reached the
// user's own token through the async context's store (err.request.socket → a timer or handle →
// Symbol(kResourceStore) → { token }). Whatever holds it must be out of reach of util.inspect at any
// depth, JSON.stringify, and a walk of every own and symbol property.

const SCOPE = 'api://dev-gcp.team.other-api/.default';

/** Every string reachable from `root` through own (string and symbol) data properties, Map and Set entries, and buffers. */
function reachableText(root: unknown): string[] {
  const seen = new Set<unknown>();
  const texts: string[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      texts.push(value);
      continue;
    }
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue;
    seen.add(value);
    if (ArrayBuffer.isView(value)) {
      texts.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1'));
      continue;
    }
    if (value instanceof Map) for (const [k, v] of value) stack.push(k, v);
    if (value instanceof Set) for (const v of value) stack.push(v);
    for (const key of Reflect.ownKeys(value)) {
      if (typeof key === 'string') texts.push(key);
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor !== undefined && 'value' in descriptor) stack.push(descriptor.value);
    }
    stack.push(Object.getPrototypeOf(value));
  }
  return texts;
}

function expectNoTrace(error: unknown, userToken: string): void {
  expect(error, 'the API call failed').to.have.nested.property('response.status', 500);
  const inspected = inspect(error, { depth: Infinity, showHidden: true });
  expect(inspected.length, 'inspect printed the error').to.be.above(1000);
  expect(inspected.includes(userToken), "util.inspect(err, { depth: Infinity, showHidden: true }) shows the user's token").to.equal(false);
  const json = JSON.stringify(error, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
  expect(json.includes(userToken), "JSON.stringify(err) holds the user's token").to.equal(false);
  const found = reachableText(error).filter((text) => text.includes(userToken));
  expect(found.length, "a walk of the error's properties reaches the user's token").to.equal(0);
}

describe("the user's token is out of reach of an API error raised inside the user's context", function () {
  this.timeout(20_000);
  let texas: Server;
  let failingApi: Server;
  let exchangeEndpoint: string;
  let apiUrl: string;
  let userToken: string;

  before(async () => {
    nock.restore(); // real loopback servers only
    texas = createServer((req, res) => {
      req.resume().on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'exchanged-obo-token', expires_in: 3599, token_type: 'Bearer' }));
      });
    });
    failingApi = createServer((req, res) => {
      req.resume().on('end', () => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"boom"}');
      });
    });
    for (const server of [texas, failingApi]) {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
    }
    exchangeEndpoint = `http://127.0.0.1:${(texas.address() as AddressInfo).port}/api/v1/token/exchange`;
    apiUrl = `http://127.0.0.1:${(failingApi.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const server of [texas, failingApi]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    nock.activate();
  });
  beforeEach(() => {
    userToken = `user-token-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  });

  /** The app's client for the failing API: a timeout arms the socket timer that held the store. */
  function otherApi(): AxiosInstance {
    const instance = axios.create({ baseURL: apiUrl, timeout: 5_000 });
    attachToken(instance, { source: onBehalfOf({ endpoint: exchangeEndpoint }), scope: SCOPE });
    return instance;
  }

  it('withUserToken', async () => {
    const api = otherApi();
    const error = await withUserToken(userToken, () => api.get('/things').catch((e: unknown) => e));
    expectNoTrace(error, userToken);
  });

  it('captureUserToken (an Express 5 app)', async () => {
    const api = otherApi();
    let caught: unknown;
    const app = express();
    app.use(captureUserToken());
    app.get('/profile', async (_req, res) => {
      caught = await api.get('/things').catch((e: unknown) => e);
      res.status(502).json({ error: 'upstream' });
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      // fetch (undici), not axios: the test's own request must not sit in an agent the error can reach.
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/profile`, {
        headers: { authorization: `Bearer ${userToken}` },
      });
      expect(response.status).to.equal(502);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expectNoTrace(caught, userToken);
  });

  it('captureUserTokenKoa (a Koa 3 app)', async () => {
    const api = otherApi();
    let caught: unknown;
    const app = new Koa();
    app.use(captureUserTokenKoa());
    app.use(async (ctx) => {
      caught = await api.get('/things').catch((e: unknown) => e);
      ctx.status = 502;
      ctx.body = { error: 'upstream' };
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/profile`, {
        headers: { authorization: `Bearer ${userToken}` },
      });
      expect(response.status).to.equal(502);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expectNoTrace(caught, userToken);
  });
});
