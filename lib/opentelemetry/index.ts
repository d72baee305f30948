/**
 * OpenTelemetry spans and metrics for the package's token requests, from `instrument()`.
 * @module axios-m2m/opentelemetry
 */
// axios-m2m/opentelemetry: spans and metrics from the package's diagnostics_channel events,
// through @opentelemetry/api alone (an optional peer dependency). Nothing in the main entry
// imports this file; it only listens to the channels, by name.
import diagnosticsChannel from 'node:diagnostics_channel';
import { diag, metrics, trace, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { metricHandlers } from './metrics.js';
import { traceHandlers } from './traces.js';

export { SPAN_NAMES } from './traces.js';
export { METRIC_NAMES } from './metrics.js';

/** Options of {@link instrument}. */
export interface InstrumentOptions {
  /**
   * Where spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`), which your OpenTelemetry SDK registers
   */
  tracerProvider?: TracerProvider | undefined;
  /**
   * Where metrics go. The global one is looked up at each event, so `instrument()` may run before
   * the SDK starts.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider | undefined;
}

/** The instrumentation scope name of the tracer and the meter. */
export const INSTRUMENTATION_SCOPE = 'axios-m2m';

// One instrumentation at a time per process, across the ESM and CommonJS copies of this entry:
// two would record every span and count every event twice.
const ACTIVE = Symbol.for('axios-m2m.opentelemetry.active');
const registry = globalThis as { [ACTIVE]?: boolean };

/**
 * Records spans and metrics for the package's token requests, refreshes, exchanges, waits on a
 * shared fetch, 401 retries and introspections, until the returned function is called. A token
 * request is a child of the span that was active when the caller asked for the token. Throws a
 * `TypeError` while another `instrument()` is active (stop it first).
 *
 * @returns the function that stops it: it unsubscribes from every channel (calling it again does nothing)
 */
export function instrument(options?: InstrumentOptions): () => void {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError(`instrument(): options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const { tracerProvider, meterProvider } = options ?? {};
  if (tracerProvider !== undefined && typeof tracerProvider?.getTracer !== 'function') {
    throw new TypeError('instrument(): tracerProvider must be an OpenTelemetry TracerProvider (with getTracer)');
  }
  if (meterProvider !== undefined && typeof meterProvider?.getMeter !== 'function') {
    throw new TypeError('instrument(): meterProvider must be an OpenTelemetry MeterProvider (with getMeter)');
  }
  if (registry[ACTIVE]) {
    throw new TypeError('instrument(): axios-m2m is already instrumented; call the function the first instrument() returned to stop it first');
  }

  // The global tracer provider is a proxy: spans reach whichever SDK registers later.
  const tracer = (tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE);
  const spans = traceHandlers(tracer);
  const measures = metricHandlers(() => meterProvider ?? metrics.getMeterProvider(), INSTRUMENTATION_SCOPE);

  const handlers: [string, (message: never) => void][] = [
    ['axios-m2m:token:request', both(spans.tokenRequest, measures.tokenRequest)],
    ['axios-m2m:token:served', both(spans.tokenServed, measures.tokenServed)],
    ['axios-m2m:refresh:error', measures.refreshError],
    ['axios-m2m:request:retry', both(spans.retry, measures.retry)],
    ['axios-m2m:introspection:validate', both(spans.introspection, measures.introspection)],
  ];
  const subscribed = handlers.map(([name, handle]) => {
    const listener = (message: unknown) => {
      // A subscriber's exception would surface as an uncaught exception in the caller's process.
      try {
        handle(message as never);
      } catch (error) {
        diag.error(`axios-m2m/opentelemetry: ${name} not recorded`, error);
      }
    };
    diagnosticsChannel.subscribe(name, listener);
    return [name, listener] as const;
  });
  registry[ACTIVE] = true;

  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    for (const [name, listener] of subscribed) diagnosticsChannel.unsubscribe(name, listener);
    registry[ACTIVE] = false;
  };
}

function both<T>(first: (message: T) => void, second: (message: T) => void): (message: T) => void {
  return (message) => {
    try {
      first(message);
    } finally {
      second(message);
    }
  };
}
