import { context, SpanKind, trace } from '@opentelemetry/api';
import axios from 'axios';
import { expect } from 'chai';
import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { captureUserToken } from '../../lib/context/express.js';
import { attachToken } from '../../lib/interceptor/attach-token.js';
import { SPAN_NAMES, instrument } from '../../lib/opentelemetry/index.js';
import { onBehalfOf } from '../../lib/sources/on-behalf-of.js';
import { startTexasServer, type TexasServer } from '../../lib/testing/texas-server.js';
import { startSdk, type Sdk } from './support.js';

const SCOPE = 'api://dev-gcp.team.other-api/.default';

// An Express 5 app in front of the Texas-faithful server: each request runs inside a server span,
// and its route calls another API on behalf of the caller. The exchange belongs to that request's trace.
describe('axios-m2m/opentelemetry: an on-behalf-of exchange in an Express route', () => {
  let sdk: Sdk;
  let texas: TexasServer;
  let otherApi: Server;
  let app: Server;
  let base: string;
  let stop: () => void;
  let received: string[];

  beforeEach(async () => {
    sdk = startSdk();
    texas = await startTexasServer();
    received = [];
    otherApi = createServer((req, res) => {
      if (req.headers.authorization) received.push(req.headers.authorization.slice('Bearer '.length));
      res.writeHead(req.headers.authorization ? 200 : 401).end('{}');
    });
    await new Promise<void>((resolve) => otherApi.listen(0, '127.0.0.1', resolve));
    stop = instrument({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
    const other = axios.create({ baseURL: `http://127.0.0.1:${(otherApi.address() as AddressInfo).port}` });
    attachToken(other, { source: onBehalfOf({ endpoint: texas.exchangeEndpoint }), scope: SCOPE });
    const web = express();
    web.use((req, res, next) => {
      const span = sdk.tracer.startSpan(`${req.method} /me`, { kind: SpanKind.SERVER });
      res.on('finish', () => span.end());
      context.with(trace.setSpan(context.active(), span), next);
    });
    web.use(captureUserToken());
    web.get('/me', async (_req, res) => {
      await other.get('/profile');
      res.json({ ok: true });
    });
    app = web.listen(0, '127.0.0.1');
    await new Promise((resolve) => app.once('listening', resolve));
    base = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    stop();
    for (const server of [app, otherApi]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await texas.close();
    await sdk.stop();
  });

  it('records the exchange as a child of the server span, without the user\'s token or the exchanged one', async () => {
    const userToken = await texas.mintUserToken('user-1');
    const response = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${userToken}` } });
    expect(response.status).to.equal(200);
    const [server] = sdk.spans().filter((s) => s.kind === SpanKind.SERVER);
    const [exchange] = sdk.spansNamed(SPAN_NAMES.exchange);
    expect(exchange!.parentSpanContext?.spanId).to.equal(server!.spanContext().spanId);
    expect(exchange!.attributes).to.deep.include({
      'axios_m2m.source': 'on-behalf-of',
      'axios_m2m.scope': SCOPE,
      'axios_m2m.reason': 'miss',
      'axios_m2m.outcome': 'ok',
      'http.request.method': 'POST',
      'url.full': texas.exchangeEndpoint,
    });
    const recorded = JSON.stringify(sdk.spans().map((s) => [s.name, s.attributes, s.events, s.links, s.status]));
    expect(recorded).to.not.include(userToken);
    expect(recorded).to.not.include(userToken.split('.')[2]!); // not even the signature
    expect(received).to.have.length(1);
    expect(recorded).to.not.include(received[0]!);
  });
});
