import { diag, metrics, trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
import sinon from 'sinon';
import type { TokenRequestEvent } from '../../../lib/events.js';
import { INSTRUMENTATION_SCOPE, METRIC_NAMES, SPAN_NAMES, instrument } from '../../../lib/opentelemetry/index.js';
import { METRIC_NAMES as METRIC_NAMES_OF_METRICS } from '../../../lib/opentelemetry/metrics.js';
import { SPAN_NAMES as SPAN_NAMES_OF_TRACES } from '../../../lib/opentelemetry/traces.js';
import { points, startSdk, type Sdk } from '../../support/opentelemetry.js';

// instrument() itself: what it subscribes to and for how long, which providers it records to,
// one instrumentation per process, and a failing handler kept away from the caller. Events are
// published on the channels by hand, as the package's own code publishes them.

const SCOPE = 'api://dev-gcp.team.api/.default';
const RECORDED = ['axios-m2m:token:request', 'axios-m2m:token:served', 'axios-m2m:refresh:error', 'axios-m2m:request:retry', 'axios-m2m:introspection:validate'];

const tokenRequest = (): TokenRequestEvent => ({ scope: SCOPE, source: 'texas', reason: 'miss', duration: 250, outcome: 'ok', lifetime: 3_599_000 });
const publishTokenRequest = () => diagnosticsChannel.channel('axios-m2m:token:request').publish(tokenRequest());
const tokenRequestCount = async (sdk: Sdk) => points(await sdk.metrics(), METRIC_NAMES.tokenRequests).reduce((sum, p) => sum + (p.value as number), 0);

describe('opentelemetry/index: instrument()', () => {
  let sdk: Sdk;
  const stops: (() => void)[] = [];
  const started = (options?: Parameters<typeof instrument>[0]) => {
    const stop = instrument(options);
    stops.push(stop);
    return stop;
  };

  beforeEach(() => {
    sdk = startSdk();
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    sinon.restore();
    await sdk.stop();
  });

  it('exports the names of its spans and metrics and its instrumentation scope', () => {
    expect(SPAN_NAMES).to.equal(SPAN_NAMES_OF_TRACES);
    expect(METRIC_NAMES).to.equal(METRIC_NAMES_OF_METRICS);
    expect(INSTRUMENTATION_SCOPE).to.equal('axios-m2m');
  });

  it('refuses options that are not an object, and providers without getTracer or getMeter, naming them', () => {
    expect(() => instrument(null as never)).to.throw(TypeError, 'instrument(): options must be an object, got null');
    expect(() => instrument('tracer' as never)).to.throw(TypeError, 'instrument(): options must be an object, got string');
    expect(() => instrument({ tracerProvider: {} as never })).to.throw(
      TypeError,
      'instrument(): tracerProvider must be an OpenTelemetry TracerProvider (with getTracer)',
    );
    expect(() => instrument({ meterProvider: { getTracer: () => undefined } as never })).to.throw(
      TypeError,
      'instrument(): meterProvider must be an OpenTelemetry MeterProvider (with getMeter)',
    );
    // A refused call subscribed to nothing and left the process free for a real one.
    for (const name of RECORDED) expect(diagnosticsChannel.hasSubscribers(name), name).to.equal(false);
    expect(() => started()).to.not.throw();
  });

  it('subscribes to the five channels it records while active, never to refresh:start, and to none once stopped', () => {
    const stop = started({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
    for (const name of RECORDED) expect(diagnosticsChannel.hasSubscribers(name), name).to.equal(true);
    expect(diagnosticsChannel.hasSubscribers('axios-m2m:refresh:start')).to.equal(false);
    stop();
    for (const name of RECORDED) expect(diagnosticsChannel.hasSubscribers(name), name).to.equal(false);
  });

  it('records a token request to the providers it was given, under the instrumentation scope axios-m2m, until stopped', async () => {
    const getMeter = sinon.spy(sdk.meterProvider, 'getMeter');
    const stop = started({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
    publishTokenRequest();
    const [span] = sdk.spans();
    expect(span?.name).to.equal(SPAN_NAMES.miss);
    expect(span?.instrumentationScope.name).to.equal('axios-m2m');
    expect(getMeter.called).to.equal(true);
    for (const call of getMeter.getCalls()) expect(call.args[0]).to.equal('axios-m2m');
    expect(await tokenRequestCount(sdk)).to.equal(1);

    stop();
    publishTokenRequest();
    expect(sdk.spans()).to.have.length(1);
    expect(await tokenRequestCount(sdk)).to.equal(1);
  });

  it('records to the global providers without options, and looks the global meter provider up at each event', async () => {
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    started();
    // Registered after instrument(): a service may start its SDK later.
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    publishTokenRequest();
    expect(sdk.spansNamed(SPAN_NAMES.miss)).to.have.length(1);
    expect(await tokenRequestCount(sdk)).to.equal(1);
  });

  it('allows one instrumentation at a time: a second throws until the first is stopped, and a repeated stop ends nothing else', () => {
    const first = started({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
    expect(() => instrument()).to.throw(TypeError, 'instrument(): axios-m2m is already instrumented; call the function the first instrument() returned to stop it first');
    first();
    const second = started({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
    first();
    expect(() => instrument(), 'the first stop, called again, released the second').to.throw(TypeError, 'already instrumented');
    for (const name of RECORDED) expect(diagnosticsChannel.hasSubscribers(name), name).to.equal(true);
    publishTokenRequest();
    expect(sdk.spans(), 'each event recorded once').to.have.length(1);
    second();
  });

  it('keeps a handler that throws away from the publisher: diag.error names the channel, and the metric is still recorded', async () => {
    const failing = sinon.stub(diag, 'error');
    const brokenTracer = {
      startSpan: () => {
        throw new Error('exporter broke');
      },
      startActiveSpan: () => {
        throw new Error('exporter broke');
      },
    } as unknown as Tracer;
    const tracerProvider: TracerProvider = { getTracer: () => brokenTracer };
    started({ tracerProvider, meterProvider: sdk.meterProvider });

    expect(() => publishTokenRequest()).to.not.throw();
    expect(failing.calledOnce).to.equal(true);
    expect(failing.firstCall.args[0]).to.equal('axios-m2m/opentelemetry: axios-m2m:token:request not recorded');
    expect((failing.firstCall.args[1] as Error).message).to.equal('exporter broke');
    expect(await tokenRequestCount(sdk), 'the metric after the span that failed').to.equal(1);
  });
});
