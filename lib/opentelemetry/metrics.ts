// Metrics from the package's events, through the OpenTelemetry Meter. Names share the spans'
// attribute namespace, `axios_m2m.`; durations are histograms in seconds, as OpenTelemetry's
// semantic conventions ask. Scopes are not metric attributes: a service may use many, and every
// attribute value multiplies the series (spans carry the scope).
import type { Attributes, Counter, Histogram, Meter, MeterProvider } from '@opentelemetry/api';
import type { IntrospectionEvent, RefreshErrorEvent, RetryEvent, TokenRequestEvent, TokenServedEvent } from '../events.js';
import { boundedErrorType, CACHE, ERROR_TYPE, HTTP_STATUS, IDENTITY_PROVIDER, OUTCOME, REASON, REFRESHED, SOURCE } from './attributes.js';

/** Metric names. */
export const METRIC_NAMES = {
  /** Counter: token requests to a source's endpoint, by source, reason, outcome and error type. */
  tokenRequests: 'axios_m2m.token.requests',
  /** Histogram, in seconds: how long those token requests took. */
  tokenRequestDuration: 'axios_m2m.token.request.duration',
  /** Counter: tokens served, by source and cache (`hit`, or `miss`: the caller waited for a fetch). */
  cacheLookups: 'axios_m2m.cache.lookups',
  /** Histogram, in seconds: how long callers with no usable token waited. */
  tokenWaitDuration: 'axios_m2m.token.wait.duration',
  /** Counter: background refreshes that failed while the current token kept serving. */
  refreshFailures: 'axios_m2m.refresh.failures',
  /** Counter: requests sent again after the API refused their token, by status and whether a fetch was needed. */
  retries: 'axios_m2m.retries',
  /** Counter: validations of incoming tokens, by identity provider, outcome, cache and error type. */
  introspections: 'axios_m2m.introspections',
  /** Histogram, in seconds: how long the calls to Texas's introspection endpoint took. */
  introspectionDuration: 'axios_m2m.introspection.duration',
} as const;

// The buckets OpenTelemetry advises for http.client.request.duration: token endpoints answer in
// tens to hundreds of milliseconds, and a timeout shows in the top buckets.
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30];

interface Instruments {
  tokenRequests: Counter;
  tokenRequestDuration: Histogram;
  cacheLookups: Counter;
  tokenWaitDuration: Histogram;
  refreshFailures: Counter;
  retries: Counter;
  introspections: Counter;
  introspectionDuration: Histogram;
}

function create(meter: Meter): Instruments {
  const seconds = (name: string, description: string) => meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: SECONDS_BUCKETS } });
  return {
    tokenRequests: meter.createCounter(METRIC_NAMES.tokenRequests, {
      description: 'Upstream token requests (retries included), by source, reason and outcome',
      unit: '{request}',
    }),
    tokenRequestDuration: seconds(METRIC_NAMES.tokenRequestDuration, 'Duration of upstream token requests, retries included'),
    cacheLookups: meter.createCounter(METRIC_NAMES.cacheLookups, {
      description: 'Tokens handed to callers, by whether they came from the cache (hit) or after waiting for a fetch (miss)',
      unit: '{lookup}',
    }),
    tokenWaitDuration: seconds(METRIC_NAMES.tokenWaitDuration, 'How long callers that found no usable token waited for one'),
    refreshFailures: meter.createCounter(METRIC_NAMES.refreshFailures, {
      description: 'Background refreshes that failed while the current token kept serving',
      unit: '{failure}',
    }),
    retries: meter.createCounter(METRIC_NAMES.retries, {
      description: 'Requests re-sent once with another token after the API refused theirs',
      unit: '{retry}',
    }),
    introspections: meter.createCounter(METRIC_NAMES.introspections, {
      description: 'Inbound token validations, by identity provider, outcome and cache',
      unit: '{introspection}',
    }),
    introspectionDuration: seconds(METRIC_NAMES.introspectionDuration, 'Duration of introspection calls to Texas (cache hits excluded)'),
  };
}

const errorType = (outcome: string, code: string | undefined): Attributes => (outcome === 'error' ? { [ERROR_TYPE]: boundedErrorType(code) } : {});

/**
 * Handlers that record each event. The instruments come from the provider at the time of the
 * event (`provider()`): the global meter provider is not a proxy, so instruments made from it
 * before the SDK starts would stay no-ops for good.
 */
export function metricHandlers(provider: () => MeterProvider, scopeName: string) {
  const byProvider = new WeakMap<MeterProvider, Instruments>();
  const instruments = (): Instruments => {
    const current = provider();
    let made = byProvider.get(current);
    if (made === undefined) {
      made = create(current.getMeter(scopeName));
      byProvider.set(current, made);
    }
    return made;
  };

  return {
    tokenRequest(this: void, event: TokenRequestEvent): void {
      const m = instruments();
      const attributes = { [SOURCE]: event.source, [REASON]: event.reason, [OUTCOME]: event.outcome, ...errorType(event.outcome, event.code) };
      m.tokenRequests.add(1, attributes);
      m.tokenRequestDuration.record(event.duration / 1000, attributes);
    },
    tokenServed(this: void, event: TokenServedEvent): void {
      const m = instruments();
      m.cacheLookups.add(1, { [SOURCE]: event.source, [CACHE]: event.fromCache ? 'hit' : 'miss' });
      if (!event.fromCache) m.tokenWaitDuration.record(event.duration / 1000, { [SOURCE]: event.source });
    },
    refreshError(this: void, event: RefreshErrorEvent): void {
      instruments().refreshFailures.add(1, { [SOURCE]: event.source, [ERROR_TYPE]: boundedErrorType(event.code) });
    },
    retry(this: void, event: RetryEvent): void {
      instruments().retries.add(1, { [HTTP_STATUS]: event.status, [REFRESHED]: event.refreshed });
    },
    introspection(this: void, event: IntrospectionEvent): void {
      const m = instruments();
      const attributes = {
        [IDENTITY_PROVIDER]: event.identityProvider,
        [OUTCOME]: event.outcome,
        [CACHE]: event.fromCache ? 'hit' : 'miss',
        ...errorType(event.outcome, event.code),
      };
      m.introspections.add(1, attributes);
      if (!event.fromCache) m.introspectionDuration.record(event.duration / 1000, attributes);
    },
  };
}
