import { Agent as HttpsAgent } from 'node:https';
import type { CreateAxiosDefaults } from 'axios';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { TokenError } from '../errors.js';
import type { Endpoint } from './endpoint.js';

/** How the token request reaches the token endpoint. */
export interface ProxyOptions {
  /**
   * A forward proxy for the token request (`http://proxy:8088`), or `false` for none. By default
   * `HTTPS_PROXY`/`HTTP_PROXY` (and lowercase) decide, with `NO_PROXY` excluding hosts. A loopback
   * endpoint (Texas, in the same pod) is never proxied.
   */
  proxy?: string | false;
  /**
   * Certificates (PEM) to trust for an https token endpoint besides Node's own, e.g. a
   * corporate proxy's or a test server's.
   */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
}

type Route = Pick<CreateAxiosDefaults, 'proxy' | 'httpAgent' | 'httpsAgent'>;

/**
 * https-proxy-agent applies its constructor's TLS options to the connection to the proxy, and the
 * request's options to the TLS session inside the tunnel: extra CAs belong to the latter.
 */
class TunnelAgent extends HttpsProxyAgent<string> {
  readonly #ca: ProxyOptions['ca'];
  constructor(proxy: URL, ca: ProxyOptions['ca']) {
    super(proxy.href, { keepAlive: true });
    this.#ca = ca;
  }
  override connect(...[request, options]: Parameters<HttpsProxyAgent<string>['connect']>) {
    return super.connect(request, this.#ca === undefined ? options : ({ ...options, ca: this.#ca } as typeof options));
  }
}

/**
 * The axios settings that route one token endpoint's requests. axios's own `proxy` setting sends
 * an https request to the proxy as plain http; an https endpoint therefore goes through an agent
 * that tunnels with CONNECT, so the secret stays inside TLS end to end.
 */
export function routeTo(endpoint: Endpoint, options: ProxyOptions): Route {
  const tls = options.ca === undefined ? {} : { ca: options.ca as string | Buffer | Array<string | Buffer> };
  const proxyUrl = endpoint.loopback || options.proxy === false ? '' : (options.proxy ?? getProxyForUrl(endpoint.url));
  const https = endpoint.url.startsWith('https:');
  if (!proxyUrl) {
    return { proxy: false, ...(https && options.ca !== undefined ? { httpsAgent: new HttpsAgent({ keepAlive: true, ...tls }) } : {}) };
  }
  let proxy: URL;
  try {
    proxy = new URL(proxyUrl);
  } catch {
    throw new TokenError('configuration', 'the proxy for the token endpoint is not a valid URL', { endpoint: endpoint.label });
  }
  if (https) return { proxy: false, httpsAgent: new TunnelAgent(proxy, options.ca) };
  // Plain http to a non-loopback endpoint (only with allowInsecure): an ordinary forward proxy.
  return {
    proxy: {
      protocol: proxy.protocol.replace(':', ''),
      host: proxy.hostname,
      port: Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80)),
      ...(proxy.username ? { auth: { username: decodeURIComponent(proxy.username), password: decodeURIComponent(proxy.password) } } : {}),
    },
  };
}
