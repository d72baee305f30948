import type { AxiosInstance } from 'axios';
import { tokenInterceptor, type TokenInterceptorOptions } from './token-interceptor.js';

/**
 * Attaches tokens to every request of an existing axios instance, and retries a request once
 * with a fresh token when the API answers 401. Returns a function that removes both interceptors.
 *
 * ```ts
 * const detach = attachToken(api, { source: texas(), scope: 'api://dev-gcp.team.other-api/.default' });
 * ```
 */
export function attachToken(instance: AxiosInstance, options: TokenInterceptorOptions): () => void {
  if (typeof instance?.interceptors?.request?.use !== 'function') {
    throw new TypeError('axios-m2m: expected instance to be an axios instance');
  }
  const interceptor = tokenInterceptor(options);
  const requestId = instance.interceptors.request.use(interceptor.request);
  const responseId = instance.interceptors.response.use(undefined, interceptor.responseError);
  let attached = true;
  return () => {
    if (!attached) return;
    attached = false;
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(responseId);
  };
}
