import { diag, metrics, SpanKind, SpanStatusCode, trace, type DiagLogger } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import axios from 'axios';
import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
import sinon from 'sinon';
import { waitingCallers } from '../../../lib/core/keep-alive.js';
import { withCache } from '../../../lib/cache/with-cache.js';
import { TokenError } from '../../../lib/errors.js';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { METRIC_NAMES, SPAN_NAMES, instrument } from '../../../lib/opentelemetry/index.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { texas } from '../../../lib/sources/texas.js';
import { points, startSdk, startWorld, type Sdk } from '../../support/opentelemetry.js';

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const SECRET = 'otel-spec-client-secret-value-42';

const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const ms = (span: ReadableSpan) => ({ start: hrTimeToMilliseconds(span.startTime), end: hrTimeToMilliseconds(span.endTime) });

/** A promise and the function that settles it, for holding a fetch open by hand. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('axios-m2m/opentelemetry: instrument()', () => {
  let sdk: Sdk;
  let world: Awaited<ReturnType<typeof startWorld>>;
  let stop: (() => void) | undefined;
  let clock: sinon.SinonFakeTimers | undefined;

  beforeEach(async () => {
    sdk = startSdk();
    world = await startWorld(SECRET);
  });
  afterEach(async () => {
    stop?.();
    stop = undefined;
    clock?.restore();
    clock = undefined;
    await world.close();
    await sdk.stop();
  });

  const start = () => (stop = instrument({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }));

  describe('spans', () => {
    it('makes the token request a child of the span that was active when the request through axios asked for it', async () => {
      start();
      const api = axios.create({ baseURL: world.origin });
      attachToken(api, { source: texas({ endpoint: world.texasEndpoint }), scope: SCOPE });
      await sdk.tracer.startActiveSpan('caller', async (span) => {
        await api.get('/things');
        span.end();
      });
      const [caller] = sdk.spansNamed('caller');
      const [request] = sdk.spansNamed(SPAN_NAMES.miss);
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss, 'caller']);
      expect(request!.spanContext().traceId).to.equal(caller!.spanContext().traceId);
      expect(parentOf(request!)).to.equal(idOf(caller!));
      expect(request!.kind).to.equal(SpanKind.CLIENT);
      expect(request!.status.code).to.equal(SpanStatusCode.UNSET);
      expect(request!.attributes).to.deep.equal({
        'axios_m2m.source': 'texas',
        'axios_m2m.scope': SCOPE,
        'axios_m2m.reason': 'miss',
        'axios_m2m.outcome': 'ok',
        'axios_m2m.expires_in': request!.attributes['axios_m2m.expires_in'],
        'http.request.method': 'POST',
        'server.address': '127.0.0.1',
        'server.port': world.port,
        'url.full': world.texasEndpoint,
      });
      expect(request!.attributes['axios_m2m.expires_in']).to.be.within(3598, 3599);
      // Inside its parent: ended before it (spans are exported as they end, in that order, above),
      // and as long as the fetch took. A comparison of start times across spans would compare the
      // fetch's duration (Date.now) with the span clock (performance.now), which drift apart.
      const inner = ms(request!);
      expect(inner.end - inner.start).to.be.at.least(0);
    });

    it('gives the first caller of a shared fetch the token request as a child, and each caller that joined a wait span linked to it', async () => {
      start();
      const api = axios.create({ baseURL: world.origin });
      attachToken(api, { source: texas({ endpoint: world.texasEndpoint }), scope: SCOPE });
      const release = deferred();
      world.state.hold = release.promise;
      const first = sdk.tracer.startActiveSpan('first', async (span) => {
        await api.get('/a');
        span.end();
      });
      while (world.state.tokenRequests === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const waiting = waitingCallers(); // process-wide, so counted from here (the first caller waits already)
      const second = sdk.tracer.startActiveSpan('second', async (span) => {
        await api.get('/b');
        span.end();
      });
      // Released only once the second caller waits on the fetch too (released earlier, it would
      // find the token in the cache and wait for nothing).
      while (waitingCallers() - waiting < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      release.resolve();
      await Promise.all([first, second]);
      expect(world.state.tokenRequests).to.equal(1);
      const [request] = sdk.spansNamed(SPAN_NAMES.miss);
      const [firstSpan] = sdk.spansNamed('first');
      const [secondSpan] = sdk.spansNamed('second');
      const waits = sdk.spansNamed(SPAN_NAMES.wait);
      expect(sdk.spansNamed(SPAN_NAMES.miss)).to.have.length(1);
      expect(parentOf(request!)).to.equal(idOf(firstSpan!));
      expect(waits).to.have.length(1);
      expect(parentOf(waits[0]!)).to.equal(idOf(secondSpan!));
      expect(waits[0]!.spanContext().traceId).to.equal(secondSpan!.spanContext().traceId);
      expect(waits[0]!.links.map((l) => l.context.spanId)).to.deep.equal([idOf(request!)]);
      expect(waits[0]!.attributes).to.deep.equal({ 'axios_m2m.source': 'texas', 'axios_m2m.scope': SCOPE, 'axios_m2m.cache': 'miss' });
      // The wait ended when the token came: after the fetch's span, before its caller's.
      const ended = sdk.spans().map((s) => s.name);
      expect(ended.indexOf(SPAN_NAMES.miss)).to.be.below(ended.indexOf(SPAN_NAMES.wait));
      expect(ended.indexOf(SPAN_NAMES.wait)).to.be.below(ended.indexOf('second'));
    });

    it('records no span for a cache hit, nor a wait span for a caller without an active span', async () => {
      start();
      const source = texas({ endpoint: world.texasEndpoint });
      await sdk.tracer.startActiveSpan('caller', async (span) => {
        await source.getToken(SCOPE);
        await source.getToken(SCOPE);
        span.end();
      });
      const release = deferred();
      world.state.hold = release.promise;
      const other = texas({ endpoint: world.texasEndpoint });
      const both = Promise.all([other.getToken('api://b/.default'), other.getToken('api://b/.default')]);
      while (world.state.tokenRequests < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      release.resolve();
      await both;
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss, 'caller', SPAN_NAMES.miss]);
      expect(sdk.spans()[2]!.parentSpanContext).to.equal(undefined);
    });

    it('puts a refresh ahead in a trace of its own, linked to the request that set it off', async () => {
      clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
      start();
      let n = 0;
      const fetched = [deferred(), deferred()];
      const source = withCache(
        async () => {
          const token = { token: `custom-${++n}`, expiresAt: Date.now() + 600_000 };
          setImmediate(() => fetched[n - 1]!.resolve());
          return token;
        },
        { name: 'custom-test' },
      );
      await source.getToken(SCOPE);
      clock.tick(545_000); // 55 s left: a refresh is due (60 s ahead), the current token still serves (30 s margin)
      await sdk.tracer.startActiveSpan('trigger', async (span) => {
        await source.getToken(SCOPE);
        span.end();
      });
      await fetched[1]!.promise;
      const [trigger] = sdk.spansNamed('trigger');
      const [refresh] = sdk.spansNamed(SPAN_NAMES.ahead);
      expect(refresh!.parentSpanContext).to.equal(undefined);
      expect(refresh!.spanContext().traceId).to.not.equal(trigger!.spanContext().traceId);
      expect(refresh!.links.map((l) => l.context.spanId)).to.deep.equal([idOf(trigger!)]);
      expect(refresh!.kind).to.equal(SpanKind.INTERNAL);
      expect(refresh!.attributes).to.deep.include({ 'axios_m2m.source': 'custom-test', 'axios_m2m.reason': 'ahead', 'axios_m2m.outcome': 'ok' });
      expect(refresh!.attributes).to.not.have.property('http.request.method');
    });

    it('records a 401 retry and its forced refresh as children of the refused request', async () => {
      start();
      const api = axios.create({ baseURL: world.origin });
      attachToken(api, { source: texas({ endpoint: world.texasEndpoint }), scope: SCOPE });
      await api.get('/warm');
      world.refused.add(world.tokens[0]!);
      await sdk.tracer.startActiveSpan('caller', async (span) => {
        await api.get('/things?id=secret-ish-query');
        span.end();
      });
      const [caller] = sdk.spansNamed('caller');
      const [retry] = sdk.spansNamed(SPAN_NAMES.retry);
      const [forced] = sdk.spansNamed(SPAN_NAMES.forced);
      expect(parentOf(retry!)).to.equal(idOf(caller!));
      expect(parentOf(forced!)).to.equal(idOf(caller!));
      expect(retry!.attributes).to.deep.equal({
        'axios_m2m.scope': SCOPE,
        'http.request.method': 'GET',
        'url.path': '/things',
        'http.response.status_code': 401,
        'axios_m2m.refreshed': true,
      });
      expect(forced!.attributes).to.deep.include({ 'axios_m2m.reason': 'forced', 'axios_m2m.outcome': 'ok' });
      // The retry covers getting the new token: the forced refresh ended first, then the retry,
      // then the caller (spans are exported as they end). Start times are not compared: the
      // forced refresh's is the span clock less a Date.now duration, which drift apart.
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss, SPAN_NAMES.forced, SPAN_NAMES.retry, 'caller']);
    });

    it('marks a failed token request ERROR with error.type and the status, and only the code as message', async () => {
      start();
      const source = clientCredentials({ tokenEndpoint: world.entraEndpoint, clientId: 'client', clientSecret: 'wrong-secret' });
      await sdk.tracer.startActiveSpan('caller', async (span) => {
        await source.getToken(SCOPE).catch(() => {});
        span.end();
      });
      const [request] = sdk.spansNamed(SPAN_NAMES.miss);
      expect(request!.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'invalid_client' });
      expect(request!.attributes).to.deep.include({
        'axios_m2m.source': 'client_credentials',
        'axios_m2m.outcome': 'error',
        'error.type': 'invalid_client',
        'http.response.status_code': 401,
        'url.full': world.entraEndpoint,
      });
    });

    it('names a token request of the on-behalf-of source an exchange', async () => {
      start();
      const source = withCache(async () => ({ token: 'obo', expiresAt: Date.now() + 600_000 }), {
        name: 'on_behalf_of',
        endpoint: `${world.origin}/api/v1/token/exchange`,
      });
      await sdk.tracer.startActiveSpan('caller', async (span) => {
        await source.getToken(SCOPE);
        span.end();
      });
      const [exchange] = sdk.spansNamed(SPAN_NAMES.exchange);
      expect(parentOf(exchange!)).to.equal(idOf(sdk.spansNamed('caller')[0]!));
      expect(exchange!.attributes).to.deep.include({
        'axios_m2m.source': 'on_behalf_of',
        'http.request.method': 'POST',
        'url.full': `${world.origin}/api/v1/token/exchange`,
      });
    });

    it('records an introspection that asked Texas, as a child of the active span, and none for a cached answer', async () => {
      start();
      const channel = diagnosticsChannel.channel('axios-m2m:introspection:validate');
      sdk.tracer.startActiveSpan('inbound', (span) => {
        channel.publish({ identityProvider: 'tokenx', endpoint: `${world.origin}/api/v1/introspect`, fromCache: false, duration: 12, outcome: 'active' });
        channel.publish({ identityProvider: 'tokenx', fromCache: true, duration: 0, outcome: 'active' });
        channel.publish({
          identityProvider: 'entra_id',
          endpoint: `${world.origin}/api/v1/introspect`,
          fromCache: false,
          duration: 3,
          outcome: 'error',
          code: 'server_error',
          status: 503,
        });
        channel.publish({ identityProvider: 'tokenx', endpoint: `${world.origin}/api/v1/introspect`, fromCache: false, duration: 4, outcome: 'inactive' });
        span.end();
      });
      const [inbound] = sdk.spansNamed('inbound');
      const spans = sdk.spansNamed(SPAN_NAMES.introspection);
      expect(spans).to.have.length(3);
      for (const span of spans) expect(parentOf(span)).to.equal(idOf(inbound!));
      expect(spans[0]!.attributes).to.deep.equal({
        'axios_m2m.identity_provider': 'tokenx',
        'axios_m2m.outcome': 'active',
        'http.request.method': 'POST',
        'server.address': '127.0.0.1',
        'server.port': world.port,
        'url.full': `${world.origin}/api/v1/introspect`,
      });
      const duration = ms(spans[0]!);
      expect(duration.end - duration.start).to.be.closeTo(12, 0.01);
      expect(spans[1]!.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'server_error' });
      expect(spans[1]!.attributes).to.deep.include({ 'error.type': 'server_error', 'http.response.status_code': 503 });
      expect(spans[2]!.status.code).to.equal(SpanStatusCode.UNSET); // an inactive token is an answer, not a failure
    });
  });

  describe('metrics', () => {
    it('counts token requests by source, reason and outcome, their duration in seconds, hits and misses, and waits', async () => {
      start();
      const source = texas({ endpoint: world.texasEndpoint });
      for (let i = 0; i < 4; i++) await source.getToken(SCOPE);
      await clientCredentials({ tokenEndpoint: world.entraEndpoint, clientId: 'c', clientSecret: 'wrong' })
        .getToken(SCOPE)
        .catch(() => {});
      const all = await sdk.metrics();
      expect(points(all, METRIC_NAMES.tokenRequests)).to.deep.equal([
        { attributes: { 'axios_m2m.source': 'texas', 'axios_m2m.reason': 'miss', 'axios_m2m.outcome': 'ok' }, value: 1 },
        { attributes: { 'axios_m2m.source': 'client_credentials', 'axios_m2m.reason': 'miss', 'axios_m2m.outcome': 'error', 'error.type': 'invalid_client' }, value: 1 },
      ]);
      expect(points(all, METRIC_NAMES.cacheLookups)).to.deep.equal([
        { attributes: { 'axios_m2m.source': 'texas', 'axios_m2m.cache': 'miss' }, value: 1 },
        { attributes: { 'axios_m2m.source': 'texas', 'axios_m2m.cache': 'hit' }, value: 3 },
      ]);
      const duration = all.find((m) => m.descriptor.name === METRIC_NAMES.tokenRequestDuration)!;
      expect(duration.descriptor.unit).to.equal('s');
      const histogram = duration.dataPoints[0]!.value as { count: number; sum: number; buckets: { boundaries: number[] } };
      expect(histogram.count).to.equal(1);
      expect(histogram.sum).to.be.below(30); // seconds, not milliseconds
      expect(histogram.buckets.boundaries).to.include(0.1);
      const wait = all.find((m) => m.descriptor.name === METRIC_NAMES.tokenWaitDuration)!;
      expect(wait.dataPoints.map((p) => [p.attributes, (p.value as { count: number }).count])).to.deep.equal([[{ 'axios_m2m.source': 'texas' }, 1]]);
    });

    it('counts background refresh failures and 401 retries', async () => {
      clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
      start();
      let n = 0;
      const failed = deferred();
      const source = withCache(async () => {
        n += 1;
        if (n === 2) {
          setImmediate(() => failed.resolve());
          throw new TokenError('server_error', 'down', { status: 503 });
        }
        return { token: `t${n}`, expiresAt: Date.now() + 600_000 };
      });
      await source.getToken(SCOPE);
      clock.tick(545_000);
      await source.getToken(SCOPE);
      await failed.promise;
      diagnosticsChannel.channel('axios-m2m:request:retry').publish({ scope: SCOPE, status: 401, method: 'GET', path: '/x', refreshed: false, duration: 1 });
      const all = await sdk.metrics();
      expect(points(all, METRIC_NAMES.refreshFailures)).to.deep.equal([{ attributes: { 'axios_m2m.source': 'custom', 'error.type': 'server_error' }, value: 1 }]);
      expect(points(all, METRIC_NAMES.retries)).to.deep.equal([{ attributes: { 'http.response.status_code': 401, 'axios_m2m.refreshed': false }, value: 1 }]);
      expect(points(all, METRIC_NAMES.tokenRequests).map((p) => p.attributes['axios_m2m.reason'])).to.deep.equal(['miss', 'ahead']);
    });

    it('counts introspections by identity provider, outcome and cache, timing only calls to Texas', async () => {
      start();
      const channel = diagnosticsChannel.channel('axios-m2m:introspection:validate');
      channel.publish({ identityProvider: 'tokenx', endpoint: 'http://127.0.0.1:1/api/v1/introspect', fromCache: false, duration: 20, outcome: 'active' });
      channel.publish({ identityProvider: 'tokenx', fromCache: true, duration: 0, outcome: 'active' });
      channel.publish({ identityProvider: 'tokenx', fromCache: true, duration: 0, outcome: 'active' });
      const all = await sdk.metrics();
      expect(points(all, METRIC_NAMES.introspections)).to.deep.equal([
        { attributes: { 'axios_m2m.identity_provider': 'tokenx', 'axios_m2m.outcome': 'active', 'axios_m2m.cache': 'miss' }, value: 1 },
        { attributes: { 'axios_m2m.identity_provider': 'tokenx', 'axios_m2m.outcome': 'active', 'axios_m2m.cache': 'hit' }, value: 2 },
      ]);
      const duration = all.find((m) => m.descriptor.name === METRIC_NAMES.introspectionDuration)!;
      expect(duration.dataPoints.map((p) => (p.value as { count: number; sum: number }).sum)).to.deep.equal([0.02]);
    });
  });

  describe('providers and lifetime', () => {
    it('uses the global tracer and meter providers by default, the meter one even when registered after instrument()', async () => {
      stop = instrument();
      trace.setGlobalTracerProvider(sdk.tracerProvider);
      metrics.setGlobalMeterProvider(sdk.meterProvider);
      await texas({ endpoint: world.texasEndpoint }).getToken(SCOPE);
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss]);
      expect(points(await sdk.metrics(), METRIC_NAMES.tokenRequests)).to.have.length(1);
    });

    it('stops recording once the returned function is called, and may then be started again', async () => {
      start();
      const source = texas({ endpoint: world.texasEndpoint });
      stop!();
      stop!(); // twice does nothing
      await source.getToken(SCOPE);
      expect(sdk.spans()).to.deep.equal([]);
      expect(points(await sdk.metrics(), METRIC_NAMES.cacheLookups)).to.deep.equal([]);
      for (const name of [
        'axios-m2m:token:request',
        'axios-m2m:token:served',
        'axios-m2m:refresh:error',
        'axios-m2m:request:retry',
        'axios-m2m:introspection:validate',
      ]) {
        expect(diagnosticsChannel.channel(name).hasSubscribers, name).to.equal(false);
      }
      start();
      await source.getToken('api://other/.default');
      expect(sdk.spans()).to.have.length(1);
    });

    it('refuses a second instrument() while one is active, naming the way out', () => {
      start();
      expect(() => instrument()).to.throw(
        TypeError,
        'instrument(): axios-m2m is already instrumented; call the function the first instrument() returned to stop it first',
      );
    });

    it('rejects options that are not providers with a TypeError', () => {
      expect(() => instrument(null as never)).to.throw(TypeError, 'instrument(): options must be an object, got null');
      expect(() => instrument({ tracerProvider: {} as never })).to.throw(TypeError, /tracerProvider must be an OpenTelemetry TracerProvider/);
      expect(() => instrument({ meterProvider: 'x' as never })).to.throw(TypeError, /meterProvider must be an OpenTelemetry MeterProvider/);
    });

    it('never fails the caller when recording fails: the error goes to OpenTelemetry diag', async () => {
      const logger = { error: sinon.spy(), warn() {}, info() {}, debug() {}, verbose() {} } satisfies DiagLogger;
      diag.setLogger(logger);
      try {
        stop = instrument({
          tracerProvider: sdk.tracerProvider,
          meterProvider: {
            getMeter: () => {
              throw new Error('meter broke');
            },
          },
        });
        const token = await texas({ endpoint: world.texasEndpoint }).getToken(SCOPE);
        expect(token.token).to.match(/^issued-token-/);
        expect(logger.error.calledWithMatch('axios-m2m/opentelemetry: axios-m2m:token:request not recorded')).to.equal(true);
        expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss]); // spans still recorded
      } finally {
        diag.disable();
      }
    });
  });
});
