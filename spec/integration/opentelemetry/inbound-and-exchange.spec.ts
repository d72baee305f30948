import { context, SpanKind, trace } from '@opentelemetry/api';
import axios from 'axios';
import { expect } from 'chai';
import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requireToken } from '../../../lib/inbound/require-token.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { SPAN_NAMES, instrument } from '../../../lib/opentelemetry/index.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { startSdk, type Sdk } from '../../support/opentelemetry.js';

const SCOPE = 'api://dev-gcp.team.other-api/.default';

// An Express 5 app in front of the Texas-faithful server: each request runs inside a server span,
// requireToken() validates the caller's token by introspection, and the route calls another API on
// behalf of the caller. Both calls to Texas belong to that request's trace.
describe('axios-m2m/opentelemetry: requireToken and an on-behalf-of exchange in an Express route', () => {
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
    web.use(requireToken({ identityProvider: 'entra_id', endpoint: texas.introspectionEndpoint }));
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

  it('records the introspection and the exchange as children of the server span, and nothing for a second request served from the caches', async () => {
    const userToken = await texas.mintUserToken('user-1');
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${userToken}` } });
      expect(response.status).to.equal(200);
    }
    const [first, second] = sdk.spans().filter((s) => s.kind === SpanKind.SERVER);
    const [introspection] = sdk.spansNamed(SPAN_NAMES.introspection);
    const [exchange] = sdk.spansNamed(SPAN_NAMES.exchange);
    expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.introspection, SPAN_NAMES.exchange, 'GET /me', 'GET /me']);
    expect(introspection!.parentSpanContext?.spanId).to.equal(first!.spanContext().spanId);
    expect(exchange!.parentSpanContext?.spanId).to.equal(first!.spanContext().spanId);
    expect(introspection!.kind).to.equal(SpanKind.CLIENT);
    expect(introspection!.attributes).to.deep.include({
      'axios_m2m.identity_provider': 'entra_id',
      'axios_m2m.outcome': 'active',
      'http.request.method': 'POST',
      'url.full': texas.introspectionEndpoint,
    });
    expect(exchange!.attributes).to.deep.include({
      'axios_m2m.source': 'on_behalf_of',
      'axios_m2m.scope': SCOPE,
      'axios_m2m.reason': 'miss',
      'axios_m2m.outcome': 'ok',
      'http.request.method': 'POST',
      'url.full': texas.exchangeEndpoint,
    });
    expect(sdk.spans().filter((s) => s.spanContext().traceId === second!.spanContext().traceId)).to.deep.equal([second]);
    const recorded = JSON.stringify(sdk.spans().map((s) => [s.name, s.attributes, s.events, s.links, s.status]));
    expect(recorded).to.not.include(userToken);
    expect(recorded).to.not.include(userToken.split('.')[2]!); // not even the signature
    expect(received).to.have.length(2);
    expect(recorded).to.not.include(received[0]!);
  });
});
