import type { AxiosInstance, InternalAxiosRequestConfig } from 'axios';
import { processWide } from '../context/process-wide.js';
import { tokenInterceptor, type TokenInterceptorOptions } from './token-interceptor.js';

/**
 * Instances with a token attached, by their request interceptor list (shared by every handle on one
 * instance). One set per process, whichever copies of the package load (ESM and CommonJS builds):
 * an instance attached through one is refused by the other.
 */
const attached = processWide('attached-instances', 1, () => new WeakSet<object>());

/**
 * Attaches tokens to the requests of an existing axios instance, and retries a request once with
 * a fresh token when the API answers 401. Returns a function that removes both interceptors.
 *
 * ```ts
 * const api = axios.create({ baseURL: 'https://other-api.intern.nav.no' });
 * const detach = attachToken(api, { source: texas(), scope: 'api://dev-gcp.team.other-api/.default' });
 * ```
 *
 * A token goes only to an origin the user named: the `baseURL`'s (the instance's, or a request's
 * own) or one in `origins`. An instance with neither, axios's default export included (every
 * library in the process sends its requests through it), is refused with a `TypeError`: the token
 * would go to any host the instance is asked to call.
 *
 * Attaching twice to one instance throws a `TypeError`: call the returned `detach()` first. (One
 * attachment serves any number of scopes: see `scope` and the request option `token`.)
 */
export function attachToken(instance: AxiosInstance, options: TokenInterceptorOptions): () => void {
  if (typeof instance?.interceptors?.request?.use !== 'function') {
    throw new TypeError('axios-m2m: expected instance to be an axios instance');
  }
  const requests = instance.interceptors.request;
  if (attached.has(requests)) {
    throw new TypeError('axios-m2m: attachToken was already called on this instance: call the detach() function it returned before attaching again');
  }
  const interceptor = tokenInterceptor(options);
  const baseURL = instance.defaults?.baseURL;
  if ((typeof baseURL !== 'string' || baseURL === '') && !(options.origins?.length ?? 0)) {
    throw new TypeError(
      'axios-m2m: attachToken needs to know where the token may go, and this instance has no baseURL: ' +
        "attach to axios.create({ baseURL: 'https://api.example' }) (never axios's default export, which every library shares), " +
        "or pass origins: ['https://api.example']",
    );
  }
  const requestId = requests.use((config) => interceptor.request(withInstanceScope(config, instance)));
  const responseId = instance.interceptors.response.use(undefined, interceptor.responseError);
  attached.add(requests);
  let isAttached = true;
  return () => {
    if (!isAttached) return;
    isAttached = false;
    requests.eject(requestId);
    instance.interceptors.response.eject(responseId);
    attached.delete(requests);
  };
}

/**
 * A request's `token: { scope: undefined }` means the default scope, as leaving scope out does;
 * but axios's config merge copies the `undefined` over the instance's own `token: { scope }`,
 * which would then lose to `attachToken`'s `scope` option (or leave no scope at all). So the
 * instance's scope fills it in again.
 */
function withInstanceScope(config: InternalAxiosRequestConfig, instance: AxiosInstance): InternalAxiosRequestConfig {
  const own = config.token;
  if (own === null || typeof own !== 'object' || own.scope !== undefined) return config;
  const fallback = instance.defaults?.token;
  if (fallback === null || typeof fallback !== 'object' || fallback.scope === undefined) return config;
  config.token = { ...own, scope: fallback.scope };
  return config;
}
