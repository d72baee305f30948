import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import sinon from 'sinon';
import type { IntrospectionEvent, RetryEvent, TokenRequestEvent, TokenServedEvent } from '../../../lib/events.js';
import { SPAN_NAMES, traceHandlers } from '../../../lib/opentelemetry/traces.js';
import { startSdk, type Sdk } from '../../support/opentelemetry.js';

// The handlers are fed events directly, in the contexts a caller would publish them from, and the
// SDK exports to memory: names, kinds, attributes, statuses, parents and links, no network.

const SCOPE = 'api://dev-gcp.team.api/.default';
const TEXAS = 'http://127.0.0.1:7164/api/v1/token';

const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const traceOf = (span: ReadableSpan) => span.spanContext().traceId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
/** A span's duration in milliseconds (the SDK keeps it as [seconds, nanoseconds]). */
const lasted = (span: ReadableSpan) => span.duration[0] * 1000 + span.duration[1] / 1e6;

/** `event` without the fields in `absent`, as a publisher that leaves them out sends it. */
function without<E extends object>(event: E, absent: readonly (keyof E)[]): E {
  for (const key of absent) delete event[key];
  return event;
}
const request = (fields: Partial<TokenRequestEvent> = {}, ...absent: ('endpoint' | 'lifetime')[]): TokenRequestEvent =>
  without({ scope: SCOPE, source: 'texas', endpoint: TEXAS, reason: 'miss', duration: 250, outcome: 'ok', lifetime: 3_599_000, ...fields }, absent);
const served = (fields: Partial<TokenServedEvent> = {}): TokenServedEvent => ({ scope: SCOPE, source: 'texas', fromCache: false, duration: 40, ...fields });
const introspected = (fields: Partial<IntrospectionEvent> = {}, ...absent: 'endpoint'[]): IntrospectionEvent =>
  without({ identityProvider: 'entra_id', endpoint: 'http://127.0.0.1:7164/api/v1/introspect', fromCache: false, duration: 30, outcome: 'active', ...fields }, absent);
const retried = (fields: Partial<RetryEvent> = {}): RetryEvent => ({
  scope: SCOPE,
  status: 401,
  method: 'GET',
  path: '/things',
  refreshed: true,
  duration: 120,
  ...fields,
});

describe('opentelemetry/traces', () => {
  let sdk: Sdk;
  let handlers: ReturnType<typeof traceHandlers>;
  let clock: sinon.SinonFakeTimers | undefined;

  beforeEach(() => {
    sdk = startSdk();
    handlers = traceHandlers(sdk.tracerProvider.getTracer('axios-m2m'));
  });
  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    await sdk.stop();
  });

  /** Runs `body` inside an active span named `name`, as a caller under instrumentation would. */
  const inSpan = (name: string, body: () => void) =>
    sdk.tracer.startActiveSpan(name, (span) => {
      body();
      span.end();
    });

  describe('SPAN_NAMES', () => {
    it('names every span axios-m2m <what>, with nothing of the scope or endpoint in it', () => {
      expect(SPAN_NAMES).to.deep.equal({
        miss: 'axios-m2m token request',
        ahead: 'axios-m2m token refresh',
        forced: 'axios-m2m token forced refresh',
        exchange: 'axios-m2m token exchange',
        wait: 'axios-m2m token wait',
        retry: 'axios-m2m retry',
        introspection: 'axios-m2m introspection',
      });
    });
  });

  describe('token requests', () => {
    it("records a miss as a CLIENT child of the caller's span, with the endpoint, POST and the lifetime in seconds", () => {
      inSpan('caller', () => handlers.tokenRequest(request({ lifetime: 3_599_500 })));
      const [span, caller] = sdk.spans();
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss, 'caller']);
      expect(parentOf(span!)).to.equal(idOf(caller!));
      expect(traceOf(span!)).to.equal(traceOf(caller!));
      expect(span!.kind).to.equal(SpanKind.CLIENT);
      expect(span!.status).to.deep.equal({ code: SpanStatusCode.UNSET });
      expect(span!.attributes).to.deep.equal({
        'axios_m2m.source': 'texas',
        'axios_m2m.scope': SCOPE,
        'axios_m2m.reason': 'miss',
        'axios_m2m.outcome': 'ok',
        'server.address': '127.0.0.1',
        'server.port': 7164,
        'url.full': TEXAS,
        'http.request.method': 'POST',
        'axios_m2m.expires_in': 3600,
      });
      expect(span!.links).to.deep.equal([]);
      expect(span!.events).to.deep.equal([]);
    });

    it('lasts as long as the event says the request took, and ends when the event comes', () => {
      handlers.tokenRequest(request({ duration: 250 }));
      handlers.tokenRequest(request({ duration: 0, scope: 'api://other/.default' }));
      const [long, instant] = sdk.spans();
      expect(lasted(long!)).to.be.closeTo(250, 0.01);
      expect(lasted(instant!)).to.be.closeTo(0, 0.01);
    });

    it('is a root span when no span is active', () => {
      handlers.tokenRequest(request());
      const [span] = sdk.spans();
      expect(span!.parentSpanContext).to.equal(undefined);
    });

    it("names a forced refresh after a 401 by its reason, in the refused request's trace", () => {
      inSpan('refused request', () => handlers.tokenRequest(request({ reason: 'forced' })));
      const [span, caller] = sdk.spans();
      expect(span!.name).to.equal(SPAN_NAMES.forced);
      expect(span!.attributes['axios_m2m.reason']).to.equal('forced');
      expect(parentOf(span!)).to.equal(idOf(caller!));
    });

    it('puts a refresh ahead in a trace of its own, linked to the span that set it off', () => {
      inSpan('trigger', () => handlers.tokenRequest(request({ reason: 'ahead' })));
      const [span, trigger] = sdk.spans();
      expect(span!.name).to.equal(SPAN_NAMES.ahead);
      expect(span!.parentSpanContext).to.equal(undefined);
      expect(traceOf(span!)).to.not.equal(traceOf(trigger!));
      expect(span!.links.map((link) => link.context.spanId)).to.deep.equal([idOf(trigger!)]);
      expect(span!.links.map((link) => link.context.traceId)).to.deep.equal([traceOf(trigger!)]);
    });

    it('gives a refresh ahead with no span active no link', () => {
      handlers.tokenRequest(request({ reason: 'ahead' }));
      const [span] = sdk.spans();
      expect(span!.name).to.equal(SPAN_NAMES.ahead);
      expect(span!.parentSpanContext).to.equal(undefined);
      expect(span!.links).to.deep.equal([]);
    });

    it('names every token request of the on-behalf-of source an exchange, whatever its reason, and POSTs it', () => {
      for (const reason of ['miss', 'forced', 'ahead'] as const) {
        handlers.tokenRequest(request({ source: 'on_behalf_of', reason, scope: `api://${reason}/.default` }));
      }
      expect(sdk.spans().map((s) => [s.name, s.attributes['axios_m2m.reason'], s.attributes['http.request.method']])).to.deep.equal([
        [SPAN_NAMES.exchange, 'miss', 'POST'],
        [SPAN_NAMES.exchange, 'forced', 'POST'],
        [SPAN_NAMES.exchange, 'ahead', 'POST'],
      ]);
      // An exchange ahead of expiry is still a background refresh: a trace of its own.
      expect(sdk.spans()[2]!.parentSpanContext).to.equal(undefined);
    });

    it('says POST for the built-in sources only: a custom source with an endpoint may send anything', () => {
      for (const source of ['texas', 'client_credentials', 'on_behalf_of', 'my-vault']) {
        handlers.tokenRequest(request({ source, scope: `api://${source}/.default` }));
      }
      expect(sdk.spans().map((s) => [s.attributes['axios_m2m.source'], s.kind, s.attributes['http.request.method']])).to.deep.equal([
        ['texas', SpanKind.CLIENT, 'POST'],
        ['client_credentials', SpanKind.CLIENT, 'POST'],
        ['on_behalf_of', SpanKind.CLIENT, 'POST'],
        ['my-vault', SpanKind.CLIENT, undefined],
      ]);
    });

    it('records a source without an endpoint as INTERNAL, with no server, url or method attributes', () => {
      handlers.tokenRequest(request({ source: 'custom', lifetime: 600_000 }, 'endpoint'));
      const [span] = sdk.spans();
      expect(span!.kind).to.equal(SpanKind.INTERNAL);
      expect(span!.attributes).to.deep.equal({
        'axios_m2m.source': 'custom',
        'axios_m2m.scope': SCOPE,
        'axios_m2m.reason': 'miss',
        'axios_m2m.outcome': 'ok',
        'axios_m2m.expires_in': 600,
      });
    });

    it('marks a failed request ERROR with only its code as message and as error.type, and the status', () => {
      inSpan('caller', () => handlers.tokenRequest(request({ outcome: 'error', code: 'invalid_client', status: 401 }, 'lifetime')));
      const [span] = sdk.spans();
      expect(span!.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'invalid_client' });
      expect(span!.attributes).to.deep.equal({
        'axios_m2m.source': 'texas',
        'axios_m2m.scope': SCOPE,
        'axios_m2m.reason': 'miss',
        'axios_m2m.outcome': 'error',
        'server.address': '127.0.0.1',
        'server.port': 7164,
        'url.full': TEXAS,
        'http.request.method': 'POST',
        'http.response.status_code': 401,
        'error.type': 'invalid_client',
      });
      // No exception event: an error's message or cause could hold what an endpoint sent back.
      expect(span!.events).to.deep.equal([]);
    });

    it('keeps a code outside the documented sets on the span (a span is one record, not a series), and says unknown for none', () => {
      handlers.tokenRequest(request({ outcome: 'error', code: 'vault_sealed' as never }, 'lifetime'));
      handlers.tokenRequest(request({ outcome: 'error', scope: 'api://b/.default' }, 'lifetime'));
      const [custom, none] = sdk.spans();
      expect(custom!.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'vault_sealed' });
      expect(custom!.attributes['error.type']).to.equal('vault_sealed');
      expect(none!.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'unknown' });
      expect(none!.attributes['error.type']).to.equal('unknown');
      expect(none!.attributes).to.not.have.property('http.response.status_code');
    });

    it('puts no error.type on a successful request, even with a code or status in the event', () => {
      handlers.tokenRequest(request({ code: 'timeout', status: 200 }));
      const [span] = sdk.spans();
      expect(span!.status.code).to.equal(SpanStatusCode.UNSET);
      expect(span!.attributes).to.not.have.property('error.type');
      expect(span!.attributes['http.response.status_code']).to.equal(200);
    });

    it('records neither credentials nor a query an endpoint came with, in any attribute, status, event or link', () => {
      const secret = 'client-secret-value-0123456789';
      handlers.tokenRequest(
        request({ endpoint: `https://client:${secret}@login.example/tenant/token?client_secret=${secret}`, outcome: 'error', code: 'invalid_client' }),
      );
      const [span] = sdk.spans();
      expect(span!.attributes['url.full']).to.equal('https://login.example/tenant/token');
      const recorded = JSON.stringify({ name: span!.name, attributes: span!.attributes, status: span!.status, events: span!.events, links: span!.links });
      expect(recorded).to.not.include(secret);
    });
  });

  describe('waits on a shared fetch', () => {
    it("gives a caller that joined another caller's fetch a wait span in its own trace, linked to the token request", () => {
      inSpan('first', () => handlers.tokenRequest(request()));
      inSpan('second', () => handlers.tokenServed(served({ duration: 40 })));
      const [fetch, first, wait, second] = sdk.spans();
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss, 'first', SPAN_NAMES.wait, 'second']);
      expect(parentOf(fetch!)).to.equal(idOf(first!));
      expect(parentOf(wait!)).to.equal(idOf(second!));
      expect(traceOf(wait!)).to.equal(traceOf(second!));
      expect(wait!.links.map((link) => link.context.spanId)).to.deep.equal([idOf(fetch!)]);
      expect(wait!.kind).to.equal(SpanKind.INTERNAL);
      expect(wait!.attributes).to.deep.equal({ 'axios_m2m.source': 'texas', 'axios_m2m.scope': SCOPE, 'axios_m2m.cache': 'miss' });
      expect(wait!.status.code).to.equal(SpanStatusCode.UNSET);
      expect(lasted(wait!)).to.be.closeTo(40, 0.01);
    });

    it('gives the caller that started the fetch no wait span: its trace holds the token request', () => {
      inSpan('first', () => {
        handlers.tokenRequest(request());
        handlers.tokenServed(served());
      });
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss, 'first']);
    });

    it('records no span for a token from the cache, nor a wait for a caller with no active span', () => {
      inSpan('first', () => handlers.tokenRequest(request()));
      inSpan('hit', () => handlers.tokenServed(served({ fromCache: true, duration: 0 })));
      handlers.tokenServed(served());
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss, 'first', 'hit']);
    });

    it('links a wait only to a fetch of the same source and scope', () => {
      inSpan('first', () => handlers.tokenRequest(request()));
      inSpan('other scope', () => handlers.tokenServed(served({ scope: 'api://other/.default' })));
      inSpan('other source', () => handlers.tokenServed(served({ source: 'client_credentials' })));
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss, 'first', 'other scope', 'other source']);
    });

    it('forgets a fetch once the callers it served have had their turn, so scopes do not pile up', async () => {
      inSpan('first', () => handlers.tokenRequest(request()));
      await new Promise((resolve) => setImmediate(resolve));
      inSpan('late', () => handlers.tokenServed(served()));
      expect(sdk.spans().map((s) => s.name)).to.deep.equal([SPAN_NAMES.miss, 'first', 'late']);
    });

    it('links to the latest fetch of a scope: forgetting an older one leaves the newer', () => {
      clock = sinon.useFakeTimers({ toFake: ['setImmediate'] });
      inSpan('first', () => handlers.tokenRequest(request()));
      inSpan('again', () => handlers.tokenRequest(request()));
      clock.next(); // the first fetch's turn is over; the second's is not
      inSpan('joiner', () => handlers.tokenServed(served()));
      const spans = sdk.spans();
      const [, , newer] = spans;
      const wait = spans.find((s) => s.name === SPAN_NAMES.wait);
      expect(wait?.links.map((link) => link.context.spanId)).to.deep.equal([idOf(newer!)]);
      clock.runAll();
    });
  });

  describe('retries', () => {
    it("records a retry as an INTERNAL child of the refused request's span, with method, path, status and whether a fetch was needed", () => {
      inSpan('refused request', () => handlers.retry(retried({ refreshed: false })));
      const [span, caller] = sdk.spans();
      expect(span!.name).to.equal(SPAN_NAMES.retry);
      expect(parentOf(span!)).to.equal(idOf(caller!));
      expect(span!.kind).to.equal(SpanKind.INTERNAL);
      expect(span!.status.code).to.equal(SpanStatusCode.UNSET);
      expect(span!.attributes).to.deep.equal({
        'axios_m2m.scope': SCOPE,
        'http.request.method': 'GET',
        'url.path': '/things',
        'http.response.status_code': 401,
        'axios_m2m.refreshed': false,
      });
      expect(lasted(span!)).to.be.closeTo(120, 0.01);
    });

    it('gives an absolute target as url.full, without its query', () => {
      handlers.retry(retried({ path: 'https://api.example/things?api_key=query-secret', refreshed: true }));
      const [span] = sdk.spans();
      expect(span!.attributes).to.deep.equal({
        'axios_m2m.scope': SCOPE,
        'http.request.method': 'GET',
        'url.full': 'https://api.example/things',
        'http.response.status_code': 401,
        'axios_m2m.refreshed': true,
      });
    });

    it('ends a retry at once when a publisher gives no duration', () => {
      handlers.retry({ ...retried(), duration: undefined as never });
      const [span] = sdk.spans();
      expect(lasted(span!)).to.be.closeTo(0, 0.01);
    });
  });

  describe('introspections', () => {
    it("records a call to Texas as a CLIENT child of the incoming request's span, with the endpoint and POST", () => {
      inSpan('incoming', () => handlers.introspection(introspected()));
      const [span, incoming] = sdk.spans();
      expect(span!.name).to.equal(SPAN_NAMES.introspection);
      expect(parentOf(span!)).to.equal(idOf(incoming!));
      expect(span!.kind).to.equal(SpanKind.CLIENT);
      expect(span!.status).to.deep.equal({ code: SpanStatusCode.UNSET });
      expect(span!.attributes).to.deep.equal({
        'axios_m2m.identity_provider': 'entra_id',
        'axios_m2m.outcome': 'active',
        'server.address': '127.0.0.1',
        'server.port': 7164,
        'url.full': 'http://127.0.0.1:7164/api/v1/introspect',
        'http.request.method': 'POST',
      });
      expect(lasted(span!)).to.be.closeTo(30, 0.01);
    });

    it('leaves an inactive token unmarked: it is an answer, not a failure of the call', () => {
      handlers.introspection(introspected({ outcome: 'inactive', identityProvider: 'tokenx' }));
      const [span] = sdk.spans();
      expect(span!.status.code).to.equal(SpanStatusCode.UNSET);
      expect(span!.attributes['axios_m2m.outcome']).to.equal('inactive');
      expect(span!.attributes['axios_m2m.identity_provider']).to.equal('tokenx');
      expect(span!.attributes).to.not.have.property('error.type');
    });

    it('marks a call Texas could not answer ERROR with its code and status', () => {
      handlers.introspection(introspected({ outcome: 'error', code: 'server_error', status: 503 }));
      handlers.introspection(introspected({ outcome: 'error' }));
      const [failed, uncoded] = sdk.spans();
      expect(failed!.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'server_error' });
      expect(failed!.attributes).to.deep.include({ 'axios_m2m.outcome': 'error', 'http.response.status_code': 503, 'error.type': 'server_error' });
      expect(failed!.events).to.deep.equal([]);
      expect(uncoded!.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: 'unknown' });
      expect(uncoded!.attributes['error.type']).to.equal('unknown');
      expect(uncoded!.attributes).to.not.have.property('http.response.status_code');
    });

    it('records an introspection without an endpoint as INTERNAL, with no server, url or method', () => {
      handlers.introspection(introspected({}, 'endpoint'));
      const [span] = sdk.spans();
      expect(span!.kind).to.equal(SpanKind.INTERNAL);
      expect(span!.attributes).to.deep.equal({ 'axios_m2m.identity_provider': 'entra_id', 'axios_m2m.outcome': 'active' });
    });

    it('records no span for an answer from the cache', () => {
      inSpan('incoming', () => handlers.introspection(introspected({ fromCache: true, duration: 0 })));
      expect(sdk.spans().map((s) => s.name)).to.deep.equal(['incoming']);
    });
  });
});
