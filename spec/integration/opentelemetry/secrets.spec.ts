import { SpanStatusCode } from '@opentelemetry/api';
import axios from 'axios';
import { expect } from 'chai';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import { instrument } from '../../../lib/opentelemetry/index.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { startSdk, startWorld } from '../../support/opentelemetry.js';

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const SECRET = 'otel-secret-spec-client-secret-7f3a9c';
const WRONG_SECRET = 'otel-secret-spec-wrong-secret-b41e20';

describe('axios-m2m/opentelemetry: no secret and no token in what it records', () => {
  it('holds neither the client secret nor any issued token in span names, attributes, events, links, statuses or metric attributes', async () => {
    const sdk = startSdk();
    const world = await startWorld(SECRET);
    const stop = instrument({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
    try {
      const api = axios.create({ baseURL: world.origin });
      attachToken(api, { source: clientCredentials({ tokenEndpoint: world.entraEndpoint, clientId: 'client', clientSecret: SECRET }), scope: SCOPE });
      await sdk.tracer.startActiveSpan('caller', async (span) => {
        await Promise.all([api.get('/a'), api.get('/b?q=1')]); // a fetch, shared
        world.refused.add(world.tokens[0]!);
        await api.get('/c'); // a 401, a forced refresh and a retry
        const wrong = clientCredentials({ tokenEndpoint: world.entraEndpoint, clientId: 'client', clientSecret: WRONG_SECRET });
        await wrong.getToken(SCOPE).catch(() => {}); // a failure, whose answer the endpoint filled
        span.end();
      });
      // Two callers in traces of their own share a fetch: the second gets a wait span with a link.
      const fresh = axios.create({ baseURL: world.origin });
      attachToken(fresh, { source: clientCredentials({ tokenEndpoint: world.entraEndpoint, clientId: 'client', clientSecret: SECRET }), scope: SCOPE });
      await Promise.all(['d', 'e'].map((path) => sdk.tracer.startActiveSpan(path, (span) => fresh.get(`/${path}`).finally(() => span.end()))));
      const spans = sdk.spans().map((s) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events,
        links: s.links,
        status: s.status,
      }));
      const metricAttributes = (await sdk.metrics()).flatMap((m) => m.dataPoints.map((p) => p.attributes));
      // What was recorded is worth scanning: the scenario ran through every kind of span.
      expect(new Set(spans.map((s) => s.name))).to.include.members([
        'axios-m2m token request',
        'axios-m2m token forced refresh',
        'axios-m2m retry',
        'axios-m2m token wait',
        'caller',
      ]);
      expect(spans.some((s) => s.status.code === SpanStatusCode.ERROR)).to.equal(true);
      expect(metricAttributes.length).to.be.above(4);
      expect(world.tokens.length).to.be.at.least(3);
      const recorded = JSON.stringify({ spans, metricAttributes });
      for (const secret of [SECRET, WRONG_SECRET, encodeURIComponent(SECRET), ...world.tokens]) {
        expect(recorded).to.not.include(secret);
      }
    } finally {
      stop();
      await world.close();
      await sdk.stop();
    }
  });
});
