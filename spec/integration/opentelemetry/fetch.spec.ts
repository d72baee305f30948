import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { tokenFetch } from '../../../lib/fetch/token-fetch.js';
import { SPAN_NAMES, instrument } from '../../../lib/opentelemetry/index.js';
import { texas } from '../../../lib/sources/texas.js';
import { startSdk, startWorld, type Sdk } from '../../support/opentelemetry.js';

// tokenFetch publishes the events the axios interceptor does, so instrument() gives it the same
// spans: the token request under the caller's span, and a 401's retry with its forced refresh.

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('axios-m2m/opentelemetry with axios-m2m/fetch', () => {
  let sdk: Sdk;
  let world: Awaited<ReturnType<typeof startWorld>>;
  let stop: () => void;

  beforeEach(async () => {
    sdk = startSdk();
    world = await startWorld('otel-fetch-spec-secret-value');
    stop = instrument({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
  });
  afterEach(async () => {
    stop();
    await world.close();
    await sdk.stop();
  });

  it('records the token request, then a 401 retry and its forced refresh, as children of the calling span', async () => {
    const fetchApi = tokenFetch({ source: texas({ endpoint: world.texasEndpoint }), scope: SCOPE, origins: [world.origin] });
    await sdk.tracer.startActiveSpan('caller', async (span) => {
      await (await fetchApi(`${world.origin}/warm`)).arrayBuffer();
      world.refused.add(world.tokens[0]!);
      await (await fetchApi(`${world.origin}/things?id=query-not-in-span`)).arrayBuffer();
      span.end();
    });
    const [caller] = sdk.spansNamed('caller');
    const [miss] = sdk.spansNamed(SPAN_NAMES.miss);
    const [retry] = sdk.spansNamed(SPAN_NAMES.retry);
    const [forced] = sdk.spansNamed(SPAN_NAMES.forced);
    for (const span of [miss, retry, forced]) expect(parentOf(span!)).to.equal(idOf(caller!));
    expect(retry!.attributes).to.deep.equal({
      'axios_m2m.scope': SCOPE,
      'http.request.method': 'GET',
      'url.path': '/things',
      'http.response.status_code': 401,
      'axios_m2m.refreshed': true,
    });
    expect(forced!.attributes).to.deep.include({ 'axios_m2m.reason': 'forced', 'axios_m2m.outcome': 'ok' });
  });
});
