import axios, { type InternalAxiosRequestConfig } from 'axios';
import { originOf } from '../request-policy/origins.js';
import { honoursAllowAbsoluteUrls } from './old-axios.js';

/** axios's own test for an absolute URL (`isAbsoluteURL`): a scheme and `//`, or `//` alone. */
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/** Where a request goes: the origin of its `baseURL` and the origin axios will send it to. */
export interface RequestTarget {
  /** The `baseURL`'s origin (request config over instance), undefined without one or when it does not parse. */
  base: string | undefined;
  /** The origin of the URL axios builds, undefined when it cannot be told (no baseURL for a relative URL). */
  origin: string | undefined;
}

const ALLOW_ABSOLUTE_URLS_HONOURED = honoursAllowAbsoluteUrls(axios.VERSION);

/**
 * Resolves request targets the way axios builds a request's URL (`buildFullPath`): an absolute
 * `url`, protocol-relative `//host/path` included, wins over the `baseURL` unless
 * `allowAbsoluteUrls: false`; a protocol-relative URL takes the `baseURL`'s protocol (a custom
 * adapter may resolve it so; Node's http adapter refuses it). One per interceptor: an instance sends
 * request after request to one `baseURL`, so the last one's origin is kept and no URL is parsed
 * for a relative request. The returned object is reused: read it before the next call.
 */
export function requestTargets(): (config: InternalAxiosRequestConfig) => RequestTarget {
  let lastBaseURL: string | undefined;
  let lastBase: string | undefined;
  const target: RequestTarget = { base: undefined, origin: undefined };
  return (config) => {
    const { baseURL, url } = config;
    if (typeof baseURL !== 'string' || baseURL === '') {
      target.base = undefined;
    } else {
      if (baseURL !== lastBaseURL) {
        lastBaseURL = baseURL;
        lastBase = originOf(baseURL);
      }
      target.base = lastBase;
    }
    const base = target.base;
    if (typeof url === 'string' && ABSOLUTE.test(url) && (!baseURL || config.allowAbsoluteUrls !== false || !ALLOW_ABSOLUTE_URLS_HONOURED)) {
      if (!url.startsWith('//')) target.origin = originOf(url);
      else target.origin = base === undefined ? undefined : originOf(`${base.slice(0, base.indexOf(':') + 1)}${url}`);
    } else {
      target.origin = base;
    }
    return target;
  };
}

const MAX_DESCRIBED = 120;

/** "GET /path", for error messages: no query string or fragment, no credentials, shortened. */
export function describeRequest(config: InternalAxiosRequestConfig): string {
  const method = (config.method ?? 'get').toUpperCase();
  const url = (typeof config.url === 'string' ? config.url : '').split(/[?#]/, 1)[0]!.replace(/^([a-z][a-z\d+\-.]*:)?\/\/[^/]*@/i, '$1//');
  return `${method} ${url === '' ? '/' : url.length > MAX_DESCRIBED ? `${url.slice(0, MAX_DESCRIBED)}…` : url}`;
}
