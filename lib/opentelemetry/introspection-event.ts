/**
 * `axios-m2m:introspection`: one token validation by the inbound half (requireToken /
 * introspection()), from its cache or from Texas. Declared here as well so this entry handles
 * the channel by name, without importing the inbound code.
 */
export interface IntrospectionEvent {
  identityProvider: string;
  /** Origin and path of the introspection endpoint. */
  endpoint?: string;
  /** True when the answer came from the cache and Texas was not asked. */
  fromCache: boolean;
  durationMs: number;
  outcome: 'active' | 'inactive' | 'error';
  /** With `error`: the error's code. */
  code?: string;
  /** With `error`: the HTTP status, when there was one. */
  status?: number;
}
