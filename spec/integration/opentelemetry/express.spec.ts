import { context, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import axios from 'axios';
import { expect } from 'chai';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { SPAN_NAMES, instrument } from '../../../lib/opentelemetry/index.js';
import { texas } from '../../../lib/sources/texas.js';
import { startSdk, startWorld, type Sdk } from '../../support/opentelemetry.js';

const SCOPE = 'api://dev-gcp.team.other-api/.default';

// An Express 5 app on loopback whose requests run inside a server span (started in a middleware,
// as HTTP auto-instrumentation would) and whose route calls another API through attachToken.
describe('axios-m2m/opentelemetry through an Express route', () => {
  let sdk: Sdk;
  let world: Awaited<ReturnType<typeof startWorld>>;
  let server: Server;
  let base: string;
  let stop: () => void;
  let arrived: number;
  let allArrived: () => void;

  beforeEach(async () => {
    sdk = startSdk();
    world = await startWorld('unused');
    stop = instrument({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
    const other = axios.create({ baseURL: world.origin });
    attachToken(other, { source: texas({ endpoint: world.texasEndpoint }), scope: SCOPE });
    arrived = 0;
    const app = express();
    app.use((req, res, next) => {
      const span = sdk.tracer.startSpan(`${req.method} /things`, { kind: SpanKind.SERVER, attributes: { 'http.route': '/things' } });
      res.on('finish', () => span.end());
      context.with(trace.setSpan(context.active(), span), next);
    });
    app.get('/things', async (_req, res) => {
      if (++arrived === 3) allArrived();
      const { data } = await other.get<unknown>('/things');
      res.json(data);
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await world.close();
    await sdk.stop();
  });

  const serverSpans = () => sdk.spans().filter((s) => s.kind === SpanKind.SERVER);
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  it('makes the token request a child of the server span of the request that needed it, and only then', async () => {
    const first = await fetch(`${base}/things`);
    expect(first.status).to.equal(200);
    const second = await fetch(`${base}/things`);
    expect(second.status).to.equal(200);
    const [one, two] = serverSpans();
    const requests = sdk.spansNamed(SPAN_NAMES.miss);
    expect(requests).to.have.length(1);
    expect(parentOf(requests[0]!)).to.equal(one!.spanContext().spanId);
    expect(requests[0]!.spanContext().traceId).to.equal(one!.spanContext().traceId);
    // The second request was served from the cache: nothing in its trace.
    expect(sdk.spans().filter((s) => s.spanContext().traceId === two!.spanContext().traceId)).to.deep.equal([two]);
  });

  it("shows a fetch shared by concurrent requests in the first one's trace and a linked wait in the others'", async () => {
    const release = new Promise<void>((resolve) => (allArrived = resolve));
    world.state.hold = release.then(() => new Promise((resolve) => setTimeout(resolve, 20)));
    const statuses = await Promise.all([1, 2, 3].map(async () => (await fetch(`${base}/things`)).status));
    expect(statuses).to.deep.equal([200, 200, 200]);
    expect(world.state.tokenRequests).to.equal(1);
    const [request] = sdk.spansNamed(SPAN_NAMES.miss);
    const waits = sdk.spansNamed(SPAN_NAMES.wait);
    const servers = serverSpans();
    const owner = servers.find((s) => s.spanContext().spanId === parentOf(request!))!;
    expect(owner, 'the token request is the child of one server span').to.not.equal(undefined);
    const others = servers.filter((s) => s !== owner).map((s) => s.spanContext().spanId);
    expect(waits.map(parentOf).sort()).to.deep.equal([...others].sort());
    for (const wait of waits) expect(wait.links.map((l) => l.context.spanId)).to.deep.equal([request!.spanContext().spanId]);
  });
});
