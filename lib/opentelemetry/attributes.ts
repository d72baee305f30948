// Attribute names: OpenTelemetry's semantic conventions where one fits, else the package's own
// namespace `axios_m2m.` (metric names use the same prefix). Values come only from event fields,
// which carry no secret and no token: scopes, source names, endpoint origin and path, codes.
import type { Attributes } from '@opentelemetry/api';
import { LOCAL_ERROR_CODES, OAUTH_ERROR_CODES } from '../errors.js';

export const SOURCE = 'axios_m2m.source';
export const SCOPE = 'axios_m2m.scope';
export const REASON = 'axios_m2m.reason';
export const OUTCOME = 'axios_m2m.outcome';
export const EXPIRES_IN = 'axios_m2m.expires_in';
export const CACHE = 'axios_m2m.cache';
export const REFRESHED = 'axios_m2m.refreshed';
export const IDENTITY_PROVIDER = 'axios_m2m.identity_provider';

export const HTTP_METHOD = 'http.request.method';
export const HTTP_STATUS = 'http.response.status_code';
const SERVER_ADDRESS = 'server.address';
const SERVER_PORT = 'server.port';
const URL_FULL = 'url.full';
const URL_PATH = 'url.path';
export const ERROR_TYPE = 'error.type';

/**
 * `server.address`, `server.port` and `url.full` of an endpoint the events give as origin and
 * path (never a query or credentials). Nothing when there is no endpoint or it does not parse.
 */
export function endpointAttributes(endpoint: string | undefined): Attributes {
  if (endpoint === undefined) return {};
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return {};
  }
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  // The events already strip query and credentials; this keeps that true for any publisher.
  return { [SERVER_ADDRESS]: url.hostname.replace(/^\[|\]$/g, ''), [SERVER_PORT]: port, [URL_FULL]: `${url.origin}${url.pathname}` };
}

/** The request target of a retry: `url.path` for a path, `url.full` (origin and path) for an absolute URL. */
export function targetAttributes(path: string): Attributes {
  if (path.startsWith('/')) return { [URL_PATH]: path };
  const full = endpointAttributes(path)[URL_FULL];
  return full === undefined ? {} : { [URL_FULL]: full };
}

const KNOWN_ERROR_TYPES: ReadonlySet<string> = new Set<string>([...LOCAL_ERROR_CODES, ...OAUTH_ERROR_CODES]);

/**
 * `error.type` for a metric: the code when it is one of the documented closed sets, else `unknown`.
 * A custom source may throw a `TokenError` with a code of its own, and every distinct attribute
 * value is one more time series in the metrics backend: nothing outside the sets may grow them.
 * Spans keep the code as it is: a span is one record, not a series.
 */
export function boundedErrorType(code: string | undefined): string {
  return code !== undefined && KNOWN_ERROR_TYPES.has(code) ? code : 'unknown';
}
