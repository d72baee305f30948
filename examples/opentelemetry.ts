// OpenTelemetry traces and metrics for token requests: one line, `instrument()`, after your
// OpenTelemetry SDK is set up. Token fetches then show inside the traces of the requests that
// waited for them, and the package's metrics sit beside your own.
//
// The SDK setup below stands in for what your service already has (on NAIS, the platform's
// auto-instrumentation does it before your code runs); it prints spans and metrics to the console.
//
// Extra packages: @opentelemetry/api, @opentelemetry/sdk-metrics, @opentelemetry/sdk-trace-node.
// Inputs (environment): NAIS_TOKEN_ENDPOINT (or the AZURE_* variables), API_URL, SCOPE.
// Run: node --import tsx examples/opentelemetry.ts
import { metrics, trace } from '@opentelemetry/api';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ConsoleSpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import axios from 'axios';
import { attachToken, fromEnv } from 'axios-m2m';
import { instrument } from 'axios-m2m/opentelemetry';

// --- your service's OpenTelemetry SDK (already there in a traced service) ---
const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())] });
tracerProvider.register(); // the global tracer provider, and AsyncLocalStorage for the active span
const meterProvider = new MeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 60_000 })],
});
metrics.setGlobalMeterProvider(meterProvider);

// --- the one line: spans and metrics from axios-m2m, to the global providers ---
const stop = instrument();

const api = axios.create({ baseURL: process.env.API_URL ?? '' });
attachToken(api, { source: fromEnv(), scope: process.env.SCOPE });

// Your own span, as your HTTP server instrumentation would start one per incoming request: the
// token request made for it becomes its child.
const tracer = trace.getTracer('example');
await tracer.startActiveSpan('GET /report', async (span) => {
  await api.get('/things'); // no token yet: one token request, a child of 'GET /report'
  await api.get('/things'); // from the cache: no span
  span.end();
});

stop();
await meterProvider.shutdown(); // exports the metrics once more, then stops
await tracerProvider.shutdown();
