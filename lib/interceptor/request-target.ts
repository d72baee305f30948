import type { InternalAxiosRequestConfig } from 'axios';

const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/** The origin of an absolute URL, or undefined when it is none. */
export function originOf(url: string | undefined): string | undefined {
  try {
    return url === undefined ? undefined : new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Normalises the `origins` option once: each must be an absolute http(s) URL or origin. */
export function parseOrigins(origins: readonly string[] | undefined): ReadonlySet<string> {
  const set = new Set<string>();
  for (const value of origins ?? []) {
    const origin = typeof value === 'string' ? originOf(value) : undefined;
    if (origin === undefined || origin === 'null') {
      throw new TypeError(`axios-m2m: expected origins to hold absolute http(s) URLs, got ${JSON.stringify(value)}`);
    }
    set.add(origin);
  }
  return set;
}

/**
 * Whether a request may carry the instance's token. With a `baseURL`, a request to an absolute URL
 * of another origin gets none (a URL built from user input must not leak the token), unless that
 * origin is allowed. Without a `baseURL`, every request is the instance's business.
 */
export function mayCarryToken(config: InternalAxiosRequestConfig, allowed: ReadonlySet<string>): boolean {
  const { baseURL, url } = config;
  if (!baseURL || !url || !ABSOLUTE.test(url) || config.allowAbsoluteUrls === false) return true;
  const target = originOf(url.startsWith('//') ? `${new URL(baseURL).protocol}${url}` : url);
  return target !== undefined && (target === originOf(baseURL) || allowed.has(target));
}

// An instance sends request after request to one baseURL: parse it once, not per request.
let last: { target?: string; origin?: string | undefined } = {};

/**
 * The origin a request goes to, as axios builds its URL: an absolute `url` (unless
 * `allowAbsoluteUrls: false`), else the `baseURL`. Undefined when they do not say.
 */
export function requestOrigin(config: InternalAxiosRequestConfig): string | undefined {
  const { baseURL, url } = config;
  const absolute = url !== undefined && ABSOLUTE.test(url) && (!baseURL || config.allowAbsoluteUrls !== false);
  const target = absolute ? url : baseURL;
  if (!target) return undefined;
  if (target !== last.target) last = { target, origin: originOf(target) };
  return last.origin;
}

/** "GET /path", for error messages: no query string, which may carry anything. */
export function describeRequest(config: InternalAxiosRequestConfig): string {
  const method = (config.method ?? 'get').toUpperCase();
  const url = (config.url ?? '').split('?', 1)[0];
  return `${method} ${url || '/'}`;
}
