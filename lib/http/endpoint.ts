import { TokenError } from '../errors.js';

/** A token endpoint, checked once when a source is created. */
export interface Endpoint {
  readonly url: string;
  /** Origin and path only: what errors and events may show. */
  readonly label: string;
  readonly loopback: boolean;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Parses a token endpoint URL. Plain http is refused unless the host is loopback (Texas is a
 * sidecar in the same pod) or `allowInsecure` is set: a secret or a token must not cross a network
 * in clear text.
 */
export function parseEndpoint(value: string | undefined, what: string, { allowInsecure = false } = {}): Endpoint {
  if (value === undefined || value === '') {
    throw new TokenError('configuration', `${what} is not set`);
  }
  // `localhost:7164` parses as the scheme `localhost:`, `127.0.0.1:7164` not at all: say what such
  // a value reads as, and the fix.
  if (/^[a-z0-9.-]+:\d+(?:[/?#]|$)/i.test(value)) {
    const hostAndPort = value.slice(0, 100);
    throw new TokenError(
      'configuration',
      `${what} has no scheme: ${JSON.stringify(hostAndPort)} reads as a host and port; write http://${hostAndPort} (https:// off loopback)`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TokenError('configuration', `${what} is not a valid URL`);
  }
  const label = `${url.origin}${url.pathname}`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TokenError('configuration', `${what} must be an http(s) URL, got the scheme ${url.protocol.slice(0, 40)}`, { endpoint: label });
  }
  if (url.username || url.password) {
    throw new TokenError('configuration', `${what} must not carry credentials in the URL`, { endpoint: label });
  }
  const loopback = isLoopback(url.hostname);
  if (url.protocol === 'http:' && !loopback && !allowInsecure) {
    throw new TokenError('configuration', `${what} ${label} uses plain http to a host that is not loopback; use https or set allowInsecure`, { endpoint: label });
  }
  return { url: url.href, label, loopback };
}
