import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRIC_NAMES, instrument } from '../../../lib/opentelemetry/index.js';
import { withCache } from '../../../lib/cache/with-cache.js';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { points, startSdk, type Sdk } from '../../support/opentelemetry.js';

// A token endpoint may answer with any `error` string. Each distinct `error.type` value is a time
// series in the metrics backend, so the metric attribute must stay within the documented codes.

const SCOPE = 'api://dev-gcp.team.other-api/.default';
/** Codes no documented set has. */
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

  async function fail(code: string): Promise<{ code?: string; oauthError?: string } | undefined> {
    next = code;
    const source = clientCredentials({ tokenEndpoint: endpoint, clientId: 'client', clientSecret: 'secret-value' });
    return source.getToken(SCOPE).then(
      () => undefined,
      (e: { code?: string; oauthError?: string }) => e,
    );
  }

  async function series(): Promise<Record<string, unknown>> {
    const requests = points(await sdk.metrics(), METRIC_NAMES.tokenRequests);
    return Object.fromEntries(requests.map((p) => [String(p.attributes['error.type']), p.value]));
  }

  it('records 31 invented endpoint codes as one series, and documented codes as themselves', async () => {
    for (const code of INVENTED) expect((await fail(code))?.oauthError).to.equal(code); // the error keeps what was sent
    expect((await fail('invalid_client'))?.code).to.equal('invalid_client');
    expect((await fail('temporarily_unavailable'))?.code).to.equal('temporarily_unavailable');
    expect(await series()).to.deep.equal({ unknown: 31, invalid_client: 1, temporarily_unavailable: 1 });
    expect(points(await sdk.metrics(), METRIC_NAMES.tokenRequestDuration)).to.have.length(3);
  });

  it('records 31 codes a custom source made up as one series, every one its own code on its span', async () => {
    let made = 0;
    const source = withCache(async () => {
      throw new TokenError(INVENTED[made++ % INVENTED.length] as never, 'the custom source refused');
    });
    for (let i = 0; i < INVENTED.length; i++) {
      const error = await source.getToken(SCOPE).then(
        () => undefined,
        (e: TokenError) => e,
      );
      expect(error?.code).to.equal(INVENTED[i]); // the caller's error is untouched
    }
    expect(await series()).to.deep.equal({ unknown: 31 });
    // Spans are records, not series: they keep the code as it is.
    expect(sdk.spans().map((span) => span.attributes['error.type'])).to.deep.equal(INVENTED);
  });
});
