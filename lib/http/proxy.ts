import type { CreateAxiosDefaults } from 'axios';
import type { Endpoint } from './endpoint.js';

/** How the token request reaches the token endpoint. */
export interface ProxyOptions {
  /**
   * A forward proxy URL for the token request, or `false` for none. By default the
   * `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` variables decide; a loopback endpoint (Texas) is never proxied.
   */
  proxy?: string | false;
}

/** The axios settings that route one token endpoint's requests (proxy and agents). */
export function routeTo(endpoint: Endpoint, _options: ProxyOptions): Pick<CreateAxiosDefaults, 'proxy' | 'httpAgent' | 'httpsAgent'> {
  // axios's own proxy support does not tunnel https through CONNECT; until the agent-based
  // routing lands, token requests go direct.
  void endpoint;
  return { proxy: false };
}
