import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runExample } from '../../support/run-example.js';

const SCOPE = 'api://dev-gcp.team.other-api/.default';

// examples/opentelemetry.ts as a user runs it: the OpenTelemetry SDK with console exporters, one
// instrument() line, two requests inside a span, against a Texas-shaped endpoint and an API on loopback.
describe('examples/opentelemetry.ts', function () {
  this.timeout(60_000);
  let server: Server;
  let origin: string;
  const issued: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if ((req.url ?? '').startsWith('/api/v1/token')) {
        req.resume();
        const token = `example-otel-token-${issued.length + 1}`;
        issued.push(token);
        return res.end(JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }));
      }
      const ok = issued.includes(req.headers.authorization?.replace(/^Bearer /, '') ?? '');
      res.statusCode = ok ? 200 : 401;
      res.end(JSON.stringify({ ok }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("prints the token request as a child of the request span, and the package's metrics, with no token", async () => {
    const { code, stdout, stderr } = await runExample('opentelemetry.ts', { NAIS_TOKEN_ENDPOINT: `${origin}/api/v1/token`, API_URL: origin, SCOPE });
    expect(stderr).to.equal('');
    expect(code).to.equal(0);
    expect(issued).to.have.length(1);
    // The console exporter prints each span as an object: the token request's parent is 'GET /report'.
    const spanOf = (name: string) => {
      const at = stdout.indexOf(`name: '${name}'`);
      expect(at, name).to.be.above(-1);
      const start = Math.max(0, stdout.lastIndexOf('\n{', at));
      return stdout.slice(start, stdout.indexOf('\n}', at));
    };
    const request = spanOf('axios-m2m token request');
    const report = spanOf('GET /report');
    const reportId = /\n {2}id: '([0-9a-f]{16})'/.exec(report)![1]!;
    expect(/parentSpanContext: \{[^}]*spanId: '([0-9a-f]{16})'/.exec(request)![1]).to.equal(reportId);
    expect(request).to.include(`'axios_m2m.scope': '${SCOPE}'`);
    expect(request).to.include(`'axios_m2m.outcome': 'ok'`);
    expect(stdout.match(/name: 'axios-m2m /g)).to.have.length(1); // the cache hit makes no span
    for (const metric of ['axios_m2m.token.requests', 'axios_m2m.token.request.duration', 'axios_m2m.cache.lookups']) {
      expect(stdout).to.include(`name: '${metric}'`);
    }
    expect(stdout).to.not.include(issued[0]!);
  });
});
