import { expect } from 'chai';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Agent as HttpsAgent } from 'node:https';
import { inspect } from 'node:util';
import { HttpsProxyAgent } from 'https-proxy-agent';
import sinon from 'sinon';
import { TokenError } from '../../../lib/errors.js';
import { parseEndpoint, type Endpoint } from '../../../lib/http/endpoint.js';
import { needsTunnel, planRoute, routeTo, tunnelAgent, type RoutePlan } from '../../../lib/http/proxy.js';
import { proxySecrets } from '../../../lib/http/redact.js';

// How a token endpoint is reached: the route decided from the options and the environment, the
// axios settings made of it, and the tunnelling agent for an https endpoint behind a proxy. No
// connection is made here: the integration tier runs them through a real proxy.

const ENTRA = parseEndpoint('https://login.microsoftonline.com/tenant/oauth2/v2.0/token', 'tokenEndpoint');
const PLAIN = parseEndpoint('http://login.test/tenant/oauth2/v2.0/token', 'tokenEndpoint', { allowInsecure: true });
const TEXAS = parseEndpoint('http://127.0.0.1:7164/api/v1/token', 'tokenEndpoint');
const CA = '-----BEGIN CERTIFICATE-----\nnot parsed here\n-----END CERTIFICATE-----\n';

/** The variables proxy-from-env reads, in both cases. */
const PROXY_ENV = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [name, name.toLowerCase()]);

/** Runs with exactly `env` of the proxy variables set, the others unset. */
function withEnv<T>(env: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(PROXY_ENV.map((name) => [name, process.env[name]]));
  for (const name of PROXY_ENV) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const proxyOf = (endpoint: Endpoint, env: Record<string, string>, options: Parameters<typeof planRoute>[1] = {}) =>
  withEnv(env, () => planRoute(endpoint, options).proxy?.href);

describe('planRoute(endpoint, options)', () => {
  it('goes direct when neither the option nor the environment names a proxy', () => {
    expect(withEnv({}, () => planRoute(ENTRA, {}))).to.deep.equal({ https: true, ca: undefined, secrets: [] });
    expect(withEnv({}, () => planRoute(PLAIN, { ca: CA }))).to.deep.equal({ https: false, ca: CA, secrets: [] });
  });

  it('takes the proxy option over the environment', () => {
    const plan = withEnv({ HTTPS_PROXY: 'http://env-proxy:3128' }, () => planRoute(ENTRA, { proxy: 'http://option-proxy:8088', ca: CA }));
    expect(plan.proxy?.href).to.equal('http://option-proxy:8088/');
    expect(plan).to.include({ https: true, ca: CA });
    expect(plan.secrets).to.deep.equal([]);
  });

  it('goes direct with proxy: false, whatever the environment says', () => {
    expect(proxyOf(ENTRA, { HTTPS_PROXY: 'http://env-proxy:3128', ALL_PROXY: 'http://all:1' }, { proxy: false })).to.equal(undefined);
  });

  it('takes HTTPS_PROXY for an https endpoint and HTTP_PROXY for a plain-http one, in either case, ALL_PROXY otherwise', () => {
    const env = { HTTPS_PROXY: 'http://for-https:3128', HTTP_PROXY: 'http://for-http:3128' };
    expect(proxyOf(ENTRA, env)).to.equal('http://for-https:3128/');
    expect(proxyOf(PLAIN, env)).to.equal('http://for-http:3128/');
    expect(proxyOf(ENTRA, { https_proxy: 'http://lower:3128' })).to.equal('http://lower:3128/');
    expect(proxyOf(ENTRA, { HTTP_PROXY: 'http://for-http:3128' }), 'HTTP_PROXY is not for https').to.equal(undefined);
    expect(proxyOf(ENTRA, { ALL_PROXY: 'http://all:3128' })).to.equal('http://all:3128/');
  });

  it('leaves the hosts in NO_PROXY alone: exact, by suffix, and *', () => {
    const HTTPS_PROXY = 'http://proxy:3128';
    expect(proxyOf(ENTRA, { HTTPS_PROXY, NO_PROXY: 'login.microsoftonline.com' })).to.equal(undefined);
    expect(proxyOf(ENTRA, { HTTPS_PROXY, no_proxy: 'example.com,.microsoftonline.com' })).to.equal(undefined);
    expect(proxyOf(ENTRA, { HTTPS_PROXY, NO_PROXY: '*' })).to.equal(undefined);
    expect(proxyOf(ENTRA, { HTTPS_PROXY, NO_PROXY: 'example.com,login.microsoftonline.com:8443' })).to.equal('http://proxy:3128/');
  });

  it('never proxies a loopback endpoint (Texas, in the same pod), not even with the option', () => {
    expect(proxyOf(TEXAS, { HTTP_PROXY: 'http://proxy:3128', ALL_PROXY: 'http://proxy:3128' })).to.equal(undefined);
    expect(proxyOf(TEXAS, {}, { proxy: 'http://proxy:3128' })).to.equal(undefined);
    expect(withEnv({}, () => planRoute(TEXAS, { proxy: 'http://team:pw@proxy:3128' })).secrets).to.deep.equal([]);
  });

  it("keeps the proxy's credentials, in the forms they take on the wire, as secrets to scrub from errors", () => {
    const proxy = 'http://team:p%40ss%20word@proxy:3128';
    const expected = proxySecrets(new URL(proxy));
    expect(expected).to.include('p@ss word');
    expect(withEnv({}, () => planRoute(ENTRA, { proxy })).secrets).to.deep.equal(expected);
    expect(withEnv({ HTTPS_PROXY: proxy }, () => planRoute(ENTRA, {})).secrets).to.deep.equal(expected);
  });

  it('refuses a proxy that is not a URL, at creation, naming the endpoint and never quoting the proxy (it may carry a password)', () => {
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return error as TokenError;
      }
      return expect.fail('accepted a proxy that is not a URL');
    };
    for (const error of [
      refusal(() => withEnv({}, () => planRoute(ENTRA, { proxy: 'http://team:hunter2@proxy:99999' }))),
      refusal(() => withEnv({ HTTPS_PROXY: 'http://team:hunter2@proxy:99999' }, () => planRoute(ENTRA, {}))),
    ]) {
      expect(error).to.be.instanceOf(TokenError).and.include({ code: 'configuration', endpoint: ENTRA.label });
      expect(error.message).to.include('the proxy for the token endpoint is not a valid URL');
      for (const view of [error.message, JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true })]) {
        expect(view).to.not.include('hunter2');
      }
    }
  });
});

describe('routeTo(plan): the axios settings of a route', () => {
  const plan = (endpoint: Endpoint, options: Parameters<typeof planRoute>[1]) => withEnv({}, () => planRoute(endpoint, options));

  it("goes direct, never through axios's own reading of the proxy variables", () => {
    expect(routeTo(plan(ENTRA, {}))).to.deep.equal({ proxy: false });
    expect(routeTo(plan(PLAIN, { ca: CA })), 'a CA means nothing to plain http').to.deep.equal({ proxy: false });
  });

  it('trusts the extra CAs for a direct https endpoint with an agent of its own, kept alive', () => {
    const route = routeTo(plan(ENTRA, { ca: CA }));
    expect(route.proxy).to.equal(false);
    expect(route.httpsAgent).to.be.instanceOf(HttpsAgent);
    const agent = route.httpsAgent as HttpsAgent & { options: { ca?: unknown; keepAlive?: boolean } };
    expect(agent.options).to.include({ ca: CA, keepAlive: true });
  });

  it("leaves an https endpoint behind a proxy to the tunnelling agent: axios's proxy would send it in clear text", () => {
    const tunnelled = plan(ENTRA, { proxy: 'http://proxy:3128', ca: CA });
    expect(routeTo(tunnelled)).to.deep.equal({ proxy: false });
    expect(needsTunnel(tunnelled)).to.equal(true);
  });

  it('forwards a plain-http endpoint through the proxy, its credentials decoded', () => {
    expect(routeTo(plan(PLAIN, { proxy: 'http://team:p%40ss%20word@proxy:3128' }))).to.deep.equal({
      proxy: { protocol: 'http', host: 'proxy', port: 3128, auth: { username: 'team', password: 'p@ss word' } },
    });
    expect(needsTunnel(plan(PLAIN, { proxy: 'http://proxy:3128' }))).to.equal(false);
  });

  it('sends a password given without a user name, as the tunnel does', () => {
    expect(routeTo(plan(PLAIN, { proxy: 'http://:s%3Acret@proxy:3128' }))).to.deep.equal({
      proxy: { protocol: 'http', host: 'proxy', port: 3128, auth: { username: '', password: 's:cret' } },
    });
  });

  it("forwards to the scheme's port when the proxy URL names none, and sends no auth without credentials", () => {
    expect(routeTo(plan(PLAIN, { proxy: 'http://proxy' }))).to.deep.equal({ proxy: { protocol: 'http', host: 'proxy', port: 80 } });
    expect(routeTo(plan(PLAIN, { proxy: 'https://proxy' }))).to.deep.equal({ proxy: { protocol: 'https', host: 'proxy', port: 443 } });
  });
});

describe('needsTunnel(plan)', () => {
  it('only for an https endpoint behind a proxy', () => {
    const proxy = 'http://proxy:3128';
    const cases: [RoutePlan, boolean][] = [
      [withEnv({}, () => planRoute(ENTRA, { proxy })), true],
      [withEnv({}, () => planRoute(ENTRA, {})), false],
      [withEnv({}, () => planRoute(PLAIN, { proxy })), false],
      [withEnv({}, () => planRoute(PLAIN, {})), false],
    ];
    expect(cases.map(([plan]) => needsTunnel(plan))).to.deep.equal(cases.map(([, expected]) => expected));
  });
});

describe('tunnelAgent(plan, connectTimeout): the CONNECT tunnel of an https endpoint', () => {
  /** What stands in for the socket Node creates to the proxy. */
  const fakeSocket = () => ({ unref: sinon.spy(), setTimeout: sinon.spy(), destroy: sinon.spy() });
  type FakeSocket = ReturnType<typeof fakeSocket>;
  const tunnelled = { tunnelled: true };
  let connect: sinon.SinonStub;
  let toProxy: FakeSocket;

  beforeEach(() => {
    toProxy = fakeSocket();
    // https-proxy-agent's connect opens the socket to the proxy synchronously (Node announces it
    // on net.client.socket), then resolves with the tunnel once the proxy has answered CONNECT.
    connect = sinon.stub(HttpsProxyAgent.prototype, 'connect').callsFake(() => {
      diagnosticsChannel.channel('net.client.socket').publish({ socket: toProxy });
      return Promise.resolve(tunnelled as never);
    });
  });
  afterEach(() => sinon.restore());

  const planFor = (ca?: string) => withEnv({}, () => planRoute(ENTRA, { proxy: 'http://team:pw@proxy:3128', ...(ca === undefined ? {} : { ca }) }));
  const request = {} as never;
  const options = () => ({ host: 'login.microsoftonline.com', port: 443, secureEndpoint: true }) as never;

  it("is an https-proxy-agent for the plan's proxy, kept alive", async () => {
    const agent = await tunnelAgent(planFor(), 1000);
    expect(agent).to.be.instanceOf(HttpsProxyAgent);
    expect(agent.proxy.href).to.equal('http://team:pw@proxy:3128/');
    expect(agent.keepAlive).to.equal(true);
  });

  it('gives the extra CAs to the TLS session inside the tunnel, and the request options unchanged without them', async () => {
    const withCa = await tunnelAgent(planFor(CA), 1000);
    const given = options();
    await withCa.connect(request, given);
    expect(connect.firstCall.args[1]).to.deep.equal({ ...(given as object), ca: CA });
    expect(given, 'the options passed in are not changed').to.not.have.property('ca');

    const without = await tunnelAgent(planFor(), 1000);
    const plain = options();
    await without.connect(request, plain);
    expect(connect.secondCall.args[1]).to.equal(plain);
  });

  it('does not let the socket to the proxy hold the process, and leaves a proxy that does not answer CONNECT in connectTimeout', async () => {
    const agent = await tunnelAgent(planFor(), 1234);
    const tunnel = agent.connect(request, options());
    expect(toProxy.unref.callCount).to.equal(1);
    expect(toProxy.setTimeout.firstCall.args[0]).to.equal(1234);
    const onTimeout = toProxy.setTimeout.firstCall.args[1] as () => void;
    onTimeout();
    expect(toProxy.destroy.callCount).to.equal(1);
    expect((toProxy.destroy.firstCall.args[0] as Error).message).to.equal('the proxy did not answer CONNECT');
    expect(await tunnel).to.equal(tunnelled);
  });

  it("clears that timeout once tunnelled (the request's own takes over)", async () => {
    const agent = await tunnelAgent(planFor(), 1234);
    expect(await agent.connect(request, options())).to.equal(tunnelled);
    expect(toProxy.setTimeout.args.map(([ms]) => ms as number)).to.deep.equal([1234, 0]);
  });

  it('touches only its own socket: one created by anything else afterwards is left alone', async () => {
    const agent = await tunnelAgent(planFor(), 1234);
    await agent.connect(request, options());
    const other = fakeSocket();
    diagnosticsChannel.channel('net.client.socket').publish({ socket: other });
    expect(other.unref.callCount + other.setTimeout.callCount).to.equal(0);
  });

  it('stops watching for sockets when connect throws', async () => {
    connect.callsFake(() => {
      throw new TypeError('No "host" provided');
    });
    const agent = await tunnelAgent(planFor(), 1234);
    expect(() => agent.connect(request, options())).to.throw(TypeError, 'No "host" provided');
    const other = fakeSocket();
    diagnosticsChannel.channel('net.client.socket').publish({ socket: other });
    expect(other.unref.callCount).to.equal(0);
  });
});
