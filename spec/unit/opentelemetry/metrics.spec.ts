import { DataPointType, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { METRIC_NAMES, metricHandlers } from '../../../lib/opentelemetry/metrics.js';
import { points, startSdk, type Sdk } from '../../support/opentelemetry.js';

// The handlers are fed events directly; a reader collects by hand what the meter recorded.

const SCOPE = 'api://dev-gcp.team.api/.default';
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30];

const metric = (all: MetricData[], name: string) => all.find((m) => m.descriptor.name === name);
const histogram = (all: MetricData[], name: string) =>
  points(all, name).map((p) => ({ attributes: p.attributes, sum: (p.value as Histogram).sum, count: (p.value as Histogram).count }));

describe('opentelemetry/metrics', () => {
  let sdk: Sdk;
  let handlers: ReturnType<typeof metricHandlers>;

  beforeEach(() => {
    sdk = startSdk();
    handlers = metricHandlers(() => sdk.meterProvider, 'axios-m2m');
  });
  afterEach(() => sdk.stop());

  it('names every metric under axios_m2m.', () => {
    expect(METRIC_NAMES).to.deep.equal({
      tokenRequests: 'axios_m2m.token.requests',
      tokenRequestDuration: 'axios_m2m.token.request.duration',
      cacheLookups: 'axios_m2m.cache.lookups',
      tokenWaitDuration: 'axios_m2m.token.wait.duration',
      refreshFailures: 'axios_m2m.refresh.failures',
      retries: 'axios_m2m.retries',
      introspections: 'axios_m2m.introspections',
      introspectionDuration: 'axios_m2m.introspection.duration',
    });
  });

  it('makes counters with their units and histograms in seconds with the HTTP client buckets, with descriptions', async () => {
    handlers.tokenRequest({ scope: SCOPE, source: 'texas', reason: 'miss', duration: 250, outcome: 'ok' });
    handlers.tokenServed({ scope: SCOPE, source: 'texas', fromCache: false, duration: 40 });
    handlers.refreshError({ scope: SCOPE, source: 'texas', code: 'timeout' });
    handlers.retry({ scope: SCOPE, status: 401, method: 'GET', path: '/a', refreshed: true, duration: 5 });
    handlers.introspection({ identityProvider: 'entra_id', fromCache: false, duration: 30, outcome: 'active' });
    const resourceMetrics = await sdk.metrics();
    const shape = (name: string) => {
      const m = metric(resourceMetrics, name)!;
      return [m.descriptor.unit, m.dataPointType];
    };
    expect(shape(METRIC_NAMES.tokenRequests)).to.deep.equal(['{request}', DataPointType.SUM]);
    expect(shape(METRIC_NAMES.cacheLookups)).to.deep.equal(['{lookup}', DataPointType.SUM]);
    expect(shape(METRIC_NAMES.refreshFailures)).to.deep.equal(['{failure}', DataPointType.SUM]);
    expect(shape(METRIC_NAMES.retries)).to.deep.equal(['{retry}', DataPointType.SUM]);
    expect(shape(METRIC_NAMES.introspections)).to.deep.equal(['{introspection}', DataPointType.SUM]);
    for (const name of [METRIC_NAMES.tokenRequestDuration, METRIC_NAMES.tokenWaitDuration, METRIC_NAMES.introspectionDuration]) {
      expect(shape(name), name).to.deep.equal(['s', DataPointType.HISTOGRAM]);
      const [point] = metric(resourceMetrics, name)!.dataPoints;
      expect((point!.value as Histogram).buckets.boundaries, name).to.deep.equal(BUCKETS);
    }
    for (const m of resourceMetrics) expect(m.descriptor.description, m.descriptor.name).to.not.equal('');
  });

  it('counts token requests by source, reason and outcome, with a bounded error.type on failures, and times them in seconds', async () => {
    handlers.tokenRequest({ scope: SCOPE, source: 'texas', reason: 'miss', duration: 250, outcome: 'ok', lifetime: 3_599_000 });
    handlers.tokenRequest({ scope: 'api://b/.default', source: 'texas', reason: 'miss', duration: 750, outcome: 'ok' });
    handlers.tokenRequest({ scope: SCOPE, source: 'texas', reason: 'forced', duration: 100, outcome: 'error', code: 'invalid_client', status: 401 });
    handlers.tokenRequest({ scope: SCOPE, source: 'my-vault', reason: 'ahead', duration: 10, outcome: 'error', code: 'vault_sealed' as never });
    const all = await sdk.metrics();
    const ok = { 'axios_m2m.source': 'texas', 'axios_m2m.reason': 'miss', 'axios_m2m.outcome': 'ok' };
    const refused = { 'axios_m2m.source': 'texas', 'axios_m2m.reason': 'forced', 'axios_m2m.outcome': 'error', 'error.type': 'invalid_client' };
    const custom = { 'axios_m2m.source': 'my-vault', 'axios_m2m.reason': 'ahead', 'axios_m2m.outcome': 'error', 'error.type': 'unknown' };
    // The scope is in no metric attribute: two scopes are one series.
    expect(points(all, METRIC_NAMES.tokenRequests)).to.deep.equal([
      { attributes: ok, value: 2 },
      { attributes: refused, value: 1 },
      { attributes: custom, value: 1 },
    ]);
    expect(histogram(all, METRIC_NAMES.tokenRequestDuration)).to.deep.equal([
      { attributes: ok, sum: 1, count: 2 },
      { attributes: refused, sum: 0.1, count: 1 },
      { attributes: custom, sum: 0.01, count: 1 },
    ]);
  });

  it('counts hits and misses, and times only the callers that waited', async () => {
    handlers.tokenServed({ scope: SCOPE, source: 'texas', fromCache: true, duration: 0 });
    handlers.tokenServed({ scope: SCOPE, source: 'texas', fromCache: true, duration: 0 });
    handlers.tokenServed({ scope: SCOPE, source: 'texas', fromCache: false, duration: 40 });
    const all = await sdk.metrics();
    expect(points(all, METRIC_NAMES.cacheLookups)).to.deep.equal([
      { attributes: { 'axios_m2m.source': 'texas', 'axios_m2m.cache': 'hit' }, value: 2 },
      { attributes: { 'axios_m2m.source': 'texas', 'axios_m2m.cache': 'miss' }, value: 1 },
    ]);
    expect(histogram(all, METRIC_NAMES.tokenWaitDuration)).to.deep.equal([{ attributes: { 'axios_m2m.source': 'texas' }, sum: 0.04, count: 1 }]);
  });

  it('counts refresh failures by source and bounded error.type, and retries by status and whether a fetch was needed', async () => {
    handlers.refreshError({ scope: SCOPE, source: 'texas', code: 'timeout', status: 504 });
    handlers.refreshError({ scope: SCOPE, source: 'texas', code: 'made_up' as never });
    handlers.retry({ scope: SCOPE, status: 401, method: 'GET', path: '/a', refreshed: true, duration: 5 });
    handlers.retry({ scope: SCOPE, status: 401, method: 'POST', path: '/b', refreshed: false, duration: 0 });
    const all = await sdk.metrics();
    expect(points(all, METRIC_NAMES.refreshFailures)).to.deep.equal([
      { attributes: { 'axios_m2m.source': 'texas', 'error.type': 'timeout' }, value: 1 },
      { attributes: { 'axios_m2m.source': 'texas', 'error.type': 'unknown' }, value: 1 },
    ]);
    expect(points(all, METRIC_NAMES.retries)).to.deep.equal([
      { attributes: { 'http.response.status_code': 401, 'axios_m2m.refreshed': true }, value: 1 },
      { attributes: { 'http.response.status_code': 401, 'axios_m2m.refreshed': false }, value: 1 },
    ]);
  });

  it('counts introspections by identity provider, outcome and cache, timing only calls to Texas', async () => {
    handlers.introspection({ identityProvider: 'entra_id', fromCache: false, duration: 30, outcome: 'active' });
    handlers.introspection({ identityProvider: 'entra_id', fromCache: true, duration: 0, outcome: 'active' });
    handlers.introspection({ identityProvider: 'tokenx', fromCache: false, duration: 20, outcome: 'error', code: 'server_error', status: 503 });
    const all = await sdk.metrics();
    const called = { 'axios_m2m.identity_provider': 'entra_id', 'axios_m2m.outcome': 'active', 'axios_m2m.cache': 'miss' };
    const cached = { 'axios_m2m.identity_provider': 'entra_id', 'axios_m2m.outcome': 'active', 'axios_m2m.cache': 'hit' };
    const failed = { 'axios_m2m.identity_provider': 'tokenx', 'axios_m2m.outcome': 'error', 'axios_m2m.cache': 'miss', 'error.type': 'server_error' };
    expect(points(all, METRIC_NAMES.introspections)).to.deep.equal([
      { attributes: called, value: 1 },
      { attributes: cached, value: 1 },
      { attributes: failed, value: 1 },
    ]);
    expect(histogram(all, METRIC_NAMES.introspectionDuration)).to.deep.equal([
      { attributes: called, sum: 0.03, count: 1 },
      { attributes: failed, sum: 0.02, count: 1 },
    ]);
  });

  it('asks for the provider at each event and makes its instruments once per provider', async () => {
    const other = startSdk();
    try {
      let current = sdk.meterProvider;
      let meters = 0;
      const count = (provider: typeof current) => ({ getMeter: (...args: Parameters<typeof provider.getMeter>) => (meters++, provider.getMeter(...args)) });
      const wrapped = new Map([
        [sdk.meterProvider, count(sdk.meterProvider)],
        [other.meterProvider, count(other.meterProvider)],
      ]);
      const switching = metricHandlers(() => wrapped.get(current)!, 'axios-m2m');
      switching.retry({ scope: SCOPE, status: 401, method: 'GET', path: '/a', refreshed: true, duration: 5 });
      switching.retry({ scope: SCOPE, status: 401, method: 'GET', path: '/a', refreshed: true, duration: 5 });
      current = other.meterProvider;
      switching.retry({ scope: SCOPE, status: 401, method: 'GET', path: '/a', refreshed: true, duration: 5 });
      expect(meters).to.equal(2);
      expect(points(await sdk.metrics(), METRIC_NAMES.retries).map((p) => p.value)).to.deep.equal([2]);
      expect(points(await other.metrics(), METRIC_NAMES.retries).map((p) => p.value)).to.deep.equal([1]);
    } finally {
      await other.stop();
    }
  });
});
