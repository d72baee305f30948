import diagnosticsChannel from 'node:diagnostics_channel';
import { Agent as HttpsAgent } from 'node:https';
import type { Socket } from 'node:net';
import type { CreateAxiosDefaults } from 'axios';
import type { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { TokenError } from '../errors.js';
import type { Endpoint } from './endpoint.js';
import { proxySecrets } from './redact.js';

/** How the token request reaches the token endpoint. */
export interface ProxyOptions {
  /**
   * A forward proxy for the token request (`http://proxy:8088`), or `false` for none. By default
   * `HTTPS_PROXY`/`HTTP_PROXY` (and lowercase) decide, with `NO_PROXY` excluding hosts. A loopback
   * endpoint (Texas, in the same pod) is never proxied.
   * @default `HTTPS_PROXY`, `HTTP_PROXY` (and lowercase), `NO_PROXY` excluding hosts
   */
  proxy?: string | false | undefined;
  /**
   * Certificates (PEM) to trust for an https token endpoint besides Node's own, e.g. a
   * corporate proxy's or a test server's.
   * @default Node's own
   */
  ca?: string | Uint8Array | Array<string | Uint8Array> | undefined;
}

type Route = Pick<CreateAxiosDefaults, 'proxy' | 'httpAgent' | 'httpsAgent'>;

/**
 * How one token endpoint is reached, decided (and the proxy URL checked) when a source is created;
 * the agents themselves are built on the first request, so that an app without a proxy never
 * loads https-proxy-agent.
 */
export interface RoutePlan {
  readonly https: boolean;
  readonly proxy?: URL;
  readonly ca: ProxyOptions['ca'];
  /** What the proxy's credentials look like on the wire: scrubbed from every error. */
  readonly secrets: readonly string[];
}

/** Decides the route of an endpoint's requests: direct, or which proxy (option, then environment). */
export function planRoute(endpoint: Endpoint, options: ProxyOptions): RoutePlan {
  const https = endpoint.url.startsWith('https:');
  const proxyUrl = endpoint.loopback || options.proxy === false ? '' : (options.proxy ?? getProxyForUrl(endpoint.url));
  if (!proxyUrl) return { https, ca: options.ca, secrets: [] };
  let proxy: URL;
  try {
    proxy = new URL(proxyUrl);
  } catch {
    throw new TokenError('configuration', 'the proxy for the token endpoint is not a valid URL', { endpoint: endpoint.label });
  }
  return { https, proxy, ca: options.ca, secrets: proxySecrets(proxy) };
}

type TunnelAgentClass = new (proxy: URL, ca: ProxyOptions['ca'], connectTimeout: number) => HttpsProxyAgent<string>;
let tunnelAgentClass: Promise<TunnelAgentClass> | undefined;

/** The tunnelling agent's class, with https-proxy-agent loaded on first use. */
function loadTunnelAgent(): Promise<TunnelAgentClass> {
  tunnelAgentClass ??= import('https-proxy-agent').then(({ HttpsProxyAgent: Base }) => {
    /**
     * https-proxy-agent applies its constructor's TLS options to the connection to the proxy, and
     * the request's options to the TLS session inside the tunnel: extra CAs belong to the latter.
     */
    return class TunnelAgent extends Base<string> {
      readonly #ca: ProxyOptions['ca'];
      readonly #connectTimeout: number;
      #pending: Socket | undefined;
      constructor(proxy: URL, ca: ProxyOptions['ca'], connectTimeout: number) {
        super(proxy.href, { keepAlive: true });
        this.#ca = ca;
        this.#connectTimeout = connectTimeout;
      }
      override connect(...[request, options]: Parameters<HttpsProxyAgent<string>['connect']>) {
        // The connection to the proxy, made synchronously at the start of super.connect(), is out
        // of reach until the proxy has answered CONNECT. It is caught as Node creates it: it must
        // not hold the process (as no token request's socket does), and a proxy that does not
        // answer CONNECT within the attempt's time is left (the request, aborted by then, never
        // hears of it otherwise).
        const created = ({ socket }: { socket: Socket }) => {
          socket.unref();
          socket.setTimeout(this.#connectTimeout, () => socket.destroy(new Error('the proxy did not answer CONNECT')));
          this.#pending = socket;
        };
        diagnosticsChannel.subscribe('net.client.socket', created as (message: unknown) => void);
        let tunnel: ReturnType<HttpsProxyAgent<string>['connect']>;
        try {
          tunnel = super.connect(request, this.#ca === undefined ? options : ({ ...options, ca: this.#ca } as typeof options));
        } finally {
          diagnosticsChannel.unsubscribe('net.client.socket', created as (message: unknown) => void);
        }
        const toProxy = this.#pending;
        this.#pending = undefined;
        return tunnel.then((socket) => {
          toProxy?.setTimeout(0); // tunnelled: the request's own timeout takes over
          return socket;
        });
      }
    };
  });
  return tunnelAgentClass;
}

/**
 * The axios settings that route one token endpoint's requests. axios's own `proxy` setting sends
 * an https request to the proxy as plain http; an https endpoint therefore goes through an agent
 * that tunnels with CONNECT (see {@link tunnelAgent}, set on the first request), so the secret
 * stays inside TLS end to end.
 */
export function routeTo(plan: RoutePlan): Route {
  const { proxy, https, ca } = plan;
  if (proxy === undefined) {
    const tls = ca === undefined ? {} : { ca: ca as string | Buffer | Array<string | Buffer> };
    return { proxy: false, ...(https && ca !== undefined ? { httpsAgent: new HttpsAgent({ keepAlive: true, ...tls }) } : {}) };
  }
  if (https) return { proxy: false }; // and the tunnelling agent, once loaded
  // Plain http to a non-loopback endpoint (only with allowInsecure): an ordinary forward proxy.
  return {
    proxy: {
      protocol: proxy.protocol.replace(':', ''),
      host: proxy.hostname,
      port: Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80)),
      // A password alone is credentials too (`http://:secret@proxy`), as the tunnelling agent reads it.
      ...(proxy.username || proxy.password ? { auth: { username: decodeURIComponent(proxy.username), password: decodeURIComponent(proxy.password) } } : {}),
    },
  };
}

/** Whether the route needs a tunnelling agent (an https endpoint through a proxy). */
export function needsTunnel(plan: RoutePlan): boolean {
  return plan.https && plan.proxy !== undefined;
}

/**
 * The agent that tunnels an https endpoint's requests through the proxy, https-proxy-agent loaded
 * on first use. The proxy must answer CONNECT within `connectTimeout` (the attempt's timeout).
 */
export async function tunnelAgent(plan: RoutePlan, connectTimeout: number): Promise<HttpsProxyAgent<string>> {
  const TunnelAgent = await loadTunnelAgent();
  return new TunnelAgent(plan.proxy!, plan.ca, connectTimeout);
}
