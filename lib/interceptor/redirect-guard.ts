import type { InternalAxiosRequestConfig } from 'axios';
import { originOf } from '../request-policy/origins.js';

/** What Node's http adapter hands a `beforeRedirect` hook: follow-redirects' options for the next hop. */
interface RedirectOptions {
  href?: string;
  protocol?: string;
  host?: string;
  headers?: Record<string, unknown>;
}
type BeforeRedirect = (options: RedirectOptions, responseDetails: unknown, requestDetails?: unknown) => void;

/** Our hooks, each with the caller's own hook that it wraps (if any), so a config is never wrapped twice. */
const ours = new WeakMap<BeforeRedirect, BeforeRedirect | undefined>();
/** Hooks without a caller's hook, one per origin: the common case costs no allocation per request. */
const byOrigin = new Map<string | undefined, BeforeRedirect>();
const MAX_CACHED_ORIGINS = 100;

function hookFor(origin: string | undefined, callers: BeforeRedirect | undefined): BeforeRedirect {
  const hook: BeforeRedirect = (options, responseDetails, requestDetails) => {
    // Without an origin from the config, the first hop's URL (axios >= 1.16 passes it) is the one.
    const from = origin ?? originOf((requestDetails as { url?: string } | undefined)?.url);
    const to = originOf(options.href ?? `${options.protocol}//${options.host}`);
    if (from === undefined || to !== from) {
      for (const name of Object.keys(options.headers ?? {})) {
        if (name.toLowerCase() === 'authorization') delete options.headers![name];
      }
    }
    callers?.(options, responseDetails, requestDetails);
  };
  ours.set(hook, callers);
  return hook;
}

/**
 * Keeps the token on the origin it was attached for. follow-redirects, behind axios's http adapter,
 * keeps `Authorization` on a redirect to a subdomain (`api.example` -> `evil.api.example`), and
 * older axios releases (1.13 among them) do not stop it. The token is a bearer credential, so any
 * hop off `origin` goes without it, as with fetch. The xhr and fetch adapters never call this hook.
 */
export function guardRedirects(config: InternalAxiosRequestConfig, origin: string | undefined): void {
  const current = config.beforeRedirect as BeforeRedirect | undefined;
  const callers = current !== undefined && ours.has(current) ? ours.get(current) : current;
  let hook: BeforeRedirect | undefined;
  if (callers === undefined) {
    hook = byOrigin.get(origin);
    if (hook === undefined) {
      if (byOrigin.size >= MAX_CACHED_ORIGINS) byOrigin.clear();
      byOrigin.set(origin, (hook = hookFor(origin, undefined)));
    }
  } else {
    hook = hookFor(origin, callers);
  }
  config.beforeRedirect = hook;
}
