// Where a token may go: an origin the user named. One rule for every client the package serves
// (the axios interceptor and the fetch wrapper): the request's origin is compared with a set of
// origins normalised once, by `URL`'s own serialisation (scheme, host, port; default ports dropped).

/** The origin of an absolute URL, or undefined when it is none (unparseable, or an opaque `null` origin). */
export function originOf(url: string | URL | undefined): string | undefined {
  try {
    const origin = url === undefined ? undefined : new URL(url).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** Normalises the `origins` option once: each must be an absolute http(s) URL or origin. */
export function parseOrigins(origins: readonly string[] | undefined): ReadonlySet<string> {
  if (origins !== undefined && !Array.isArray(origins)) {
    throw new TypeError(`axios-m2m: expected origins to be an array of absolute http(s) URLs, got ${typeof origins}`);
  }
  const set = new Set<string>();
  for (const value of origins ?? []) {
    const origin = typeof value === 'string' ? originOf(value) : undefined;
    if (origin === undefined || !/^https?:/.test(origin)) {
      throw new TypeError(`axios-m2m: expected origins to hold absolute http(s) URLs, got ${JSON.stringify(value)}`);
    }
    set.add(origin);
  }
  return set;
}
