import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asyncListener } from './async-listener.js';

/** A metric reader the test collects from by hand. */
class ManualReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * The OpenTelemetry SDK as a service would set it up (AsyncLocalStorage context manager, a tracer
 * and a meter provider), exporting to memory.
 */
export function startSdk() {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new ManualReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    tracer: tracerProvider.getTracer('spec'),
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    spansNamed: (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name),
    async metrics(): Promise<MetricData[]> {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    },
    async stop() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      context.disable();
      trace.disable();
      metrics.disable();
    },
  };
}

export type Sdk = ReturnType<typeof startSdk>;

/** The data points of one metric, as `{ attributes, value }`. */
export function points(all: MetricData[], name: string) {
  const metric = all.find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value }));
}

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => resolve(text));
  });
}

/**
 * One loopback server: a Texas-shaped token endpoint (`/api/v1/token`), an Entra-shaped one
 * (`/tenant/oauth2/v2.0/token`, which checks the client secret) and an API that accepts the
 * tokens they issued except refused ones. `hold` makes token answers wait until released.
 */
export async function startWorld(secret: string) {
  let issued = 0;
  const refused = new Set<string>();
  const tokens: string[] = [];
  const state = { hold: undefined as Promise<void> | undefined, tokenRequests: 0 };
  const server = createServer(
    asyncListener(async (req, res) => {
      const body = await read(req);
      const path = (req.url ?? '').split('?')[0];
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (path === '/api/v1/token' || path === '/tenant/oauth2/v2.0/token') {
        state.tokenRequests += 1;
        if (state.hold) await state.hold;
        if (path !== '/api/v1/token' && new URLSearchParams(body).get('client_secret') !== secret) {
          return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
        }
        const token = `issued-token-${++issued}-0123456789abcdef`;
        tokens.push(token);
        return json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
      }
      const token = req.headers.authorization?.replace(/^Bearer /, '');
      if (token === undefined || !tokens.includes(token) || refused.has(token)) return json(401, { error: 'invalid_token' });
      return json(200, { ok: true });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    port: (server.address() as AddressInfo).port,
    texasEndpoint: `${origin}/api/v1/token`,
    entraEndpoint: `${origin}/tenant/oauth2/v2.0/token`,
    tokens,
    refused,
    state,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
