// Spans from the package's events. Every event is published at the end of what it describes,
// synchronously in the async context of the code that started it, so `context.active()` here is
// the caller's context, and the span's start is its end less the event's `duration`.
import { context, SpanKind, SpanStatusCode, trace, type Context, type SpanContext, type Tracer } from '@opentelemetry/api';
import type { IntrospectionEvent, RetryEvent, TokenRequestEvent, TokenServedEvent } from '../events.js';
import {
  CACHE,
  ERROR_TYPE,
  EXPIRES_IN,
  HTTP_METHOD,
  HTTP_STATUS,
  IDENTITY_PROVIDER,
  OUTCOME,
  REASON,
  REFRESHED,
  SCOPE,
  SOURCE,
  endpointAttributes,
  targetAttributes,
} from './attributes.js';

/** Span names (low cardinality: the scope and endpoint are attributes). */
export const SPAN_NAMES = {
  /** A caller found no usable token and the source was asked. */
  miss: 'axios-m2m token request',
  /** A refresh ahead of expiry, in the background (a trace of its own, linked to the request that set it off). */
  ahead: 'axios-m2m token refresh',
  /** The API refused a token (401) and a fresh one was forced. */
  forced: 'axios-m2m token forced refresh',
  /** An on-behalf-of exchange, for any of the reasons above. */
  exchange: 'axios-m2m token exchange',
  /** A caller joined a fetch another caller had started, for as long as it waited. */
  wait: 'axios-m2m token wait',
  /** A refused request sent again, once, from the refusal until the other token was in hand. */
  retry: 'axios-m2m retry',
  /** A validation by `requireToken()` or `introspection()` that waited for Texas. */
  introspection: 'axios-m2m introspection',
} as const;

/** The built-in sources, whose token endpoints (Texas, Entra ID, TokenX) are all sent a POST. */
const POSTING_SOURCES = new Set(['texas', 'client_credentials', 'on_behalf_of']);

/** Milliseconds since the epoch, below the millisecond (the events' durations are whole ones). */
const now = () => performance.timeOrigin + performance.now();

/** The last token request per source and scope: joiners of that fetch link to it. */
interface LastFetch {
  span: SpanContext;
  /** The context it was made in: the first caller's. A served event in it is that caller's own. */
  parent: Context;
}

export function traceHandlers(tracer: Tracer) {
  const lastFetch = new Map<string, LastFetch>();
  const keyOf = (event: { source: string; scope: string }) => `${event.source}\u0000${event.scope}`;

  return {
    tokenRequest(this: void, event: TokenRequestEvent): void {
      const end = now();
      const active = context.active();
      const exchange = event.source === 'on_behalf_of';
      const name = exchange ? SPAN_NAMES.exchange : SPAN_NAMES[event.reason];
      const attributes = {
        [SOURCE]: event.source,
        [SCOPE]: event.scope,
        [REASON]: event.reason,
        [OUTCOME]: event.outcome,
        ...endpointAttributes(event.endpoint),
        ...(event.endpoint !== undefined && POSTING_SOURCES.has(event.source) ? { [HTTP_METHOD]: 'POST' } : {}),
        ...(event.lifetime !== undefined ? { [EXPIRES_IN]: Math.round(event.lifetime / 1000) } : {}),
        ...(event.status !== undefined ? { [HTTP_STATUS]: event.status } : {}),
        ...(event.outcome === 'error' ? { [ERROR_TYPE]: event.code ?? 'unknown' } : {}),
      };
      const kind = event.endpoint === undefined ? SpanKind.INTERNAL : SpanKind.CLIENT;
      // A refresh ahead serves no waiting caller: it runs in the background after a cache hit. As a
      // child it would hang off an unrelated request that never waited for it, so it is a trace of
      // its own, linked to the request that set it off.
      const trigger = event.reason === 'ahead' ? trace.getSpanContext(active) : undefined;
      const span = tracer.startSpan(
        name,
        {
          kind,
          startTime: end - event.duration,
          attributes,
          ...(event.reason === 'ahead' ? { root: true, links: trigger ? [{ context: trigger }] : [] } : {}),
        },
        active,
      );
      if (event.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: event.code ?? 'unknown' });
      span.end(end);
      const key = keyOf(event);
      const entry: LastFetch = { span: span.spanContext(), parent: active };
      lastFetch.set(key, entry);
      // Every caller of a fetch is served within the microtasks that follow it; after that the
      // entry would only keep the map growing with scopes.
      setImmediate(() => {
        if (lastFetch.get(key) === entry) lastFetch.delete(key);
      });
    },

    tokenServed(this: void, event: TokenServedEvent): void {
      if (event.fromCache) return; // a span per cache hit would be a span per request: metrics count those
      const active = context.active();
      const fetch = lastFetch.get(keyOf(event));
      // The first caller's trace already holds the token request as a child; a caller with no
      // active span has no trace to show the wait in.
      if (fetch === undefined || fetch.parent === active || trace.getSpanContext(active) === undefined) return;
      // A caller that joined a fetch another caller started: a span for its wait, in its own
      // trace, linked to the token request it waited for.
      const end = now();
      tracer
        .startSpan(
          SPAN_NAMES.wait,
          {
            kind: SpanKind.INTERNAL,
            startTime: end - event.duration,
            attributes: { [SOURCE]: event.source, [SCOPE]: event.scope, [CACHE]: 'miss' },
            links: [{ context: fetch.span }],
          },
          active,
        )
        .end(end);
    },

    retry(this: void, event: RetryEvent): void {
      const end = now();
      tracer
        .startSpan(
          SPAN_NAMES.retry,
          {
            kind: SpanKind.INTERNAL,
            startTime: end - (event.duration ?? 0),
            attributes: {
              [SCOPE]: event.scope,
              [HTTP_METHOD]: event.method,
              ...targetAttributes(event.path),
              [HTTP_STATUS]: event.status,
              [REFRESHED]: event.refreshed,
            },
          },
          context.active(),
        )
        .end(end);
    },

    introspection(this: void, event: IntrospectionEvent): void {
      if (event.fromCache) return; // counted by the metrics; only a call to Texas gets a span
      const end = now();
      const span = tracer.startSpan(
        SPAN_NAMES.introspection,
        {
          kind: event.endpoint === undefined ? SpanKind.INTERNAL : SpanKind.CLIENT,
          startTime: end - event.duration,
          attributes: {
            [IDENTITY_PROVIDER]: event.identityProvider,
            [OUTCOME]: event.outcome,
            ...endpointAttributes(event.endpoint),
            ...(event.endpoint !== undefined ? { [HTTP_METHOD]: 'POST' } : {}),
            ...(event.status !== undefined ? { [HTTP_STATUS]: event.status } : {}),
            ...(event.outcome === 'error' ? { [ERROR_TYPE]: event.code ?? 'unknown' } : {}),
          },
        },
        context.active(),
      );
      // An inactive token is an answer, not a failure of the call.
      if (event.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: event.code ?? 'unknown' });
      span.end(end);
    },
  };
}
