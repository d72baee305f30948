// proxy-from-env ships no types of its own.
declare module 'proxy-from-env' {
  /** The proxy URL for `url` from HTTP(S)_PROXY/NO_PROXY (or `env`), or '' for none. */
  export function getProxyForUrl(url: string | URL, env?: Record<string, string | undefined>): string;
}
