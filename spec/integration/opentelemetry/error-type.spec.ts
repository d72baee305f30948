import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRIC_NAMES, instrument } from '../../../lib/opentelemetry/index.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { points, startSdk, type Sdk } from '../../support/opentelemetry.js';

// A token endpoint may answer with any `error` string. Each distinct `error.type` value is a time
// series in the metrics backend, so the metric attribute must stay within the documented codes.

const SCOPE = 'api://dev-gcp.team.other-api/.default';
const INVENTED = Array.from({ length: 31 }, (_, i) => `invented_error_${i}`);

describe('axios-m2m/opentelemetry: error.type on metrics is bounded', () => {
  let sdk: Sdk;
  let server: Server;
  let endpoint: string;
  let stop: (() => void) | undefined;
  /** The `error` the endpoint answers with next. */
  let next = 'invalid_client';

  beforeEach(async () => {
    sdk = startSdk();
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: next, error_description: `refused with ${next}` }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tenant/oauth2/v2.0/token`;
    stop = instrument({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
  });
  afterEach(async () => {
    stop?.();
    await new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
    await sdk.stop();
  });

  async function fail(code: string): Promise<string> {
    next = code;
    const source = clientCredentials({ tokenEndpoint: endpoint, clientId: 'client', clientSecret: 'secret-value' });
    const error = await source.getToken(SCOPE).then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    return String(error?.code);
  }

  it('records 31 invented endpoint codes as one _OTHER series, and documented codes as themselves', async () => {
    for (const code of INVENTED) expect(await fail(code)).to.equal(code); // the error itself keeps the code
    expect(await fail('invalid_client')).to.equal('invalid_client');
    expect(await fail('temporarily_unavailable')).to.equal('temporarily_unavailable');

    const requests = points(await sdk.metrics(), METRIC_NAMES.tokenRequests);
    const byType = Object.fromEntries(requests.map((p) => [String(p.attributes['error.type']), p.value]));
    expect(byType).to.deep.equal({ _OTHER: 31, invalid_client: 1, temporarily_unavailable: 1 });
    const durations = points(await sdk.metrics(), METRIC_NAMES.tokenRequestDuration);
    expect(durations).to.have.length(3);
  });

  it('keeps the code as sent on the span, which is one record and not a series', async () => {
    await fail(INVENTED[0]!);
    const [span] = sdk.spans();
    expect(span!.attributes['error.type']).to.equal(INVENTED[0]);
  });
});
