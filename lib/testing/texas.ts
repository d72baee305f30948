import type { JWTPayload } from 'jose';
import { startTexasServer, type TexasServerRequest } from './texas-server.js';

// The first name of the Texas-faithful server (`startTexas`, documented in the README and used by
// the specs, the examples and `axios-m2m/testing`). The server itself lives in texas-server.ts;
// this keeps the older names and defaults working on top of it, and is the `testing` entry point,
// so `axios-m2m/testing` exports both names.
export * from './texas-server.js';

/** Options of {@link startTexas}. */
export interface TexasTestOptions {
  /** Lifetime of minted tokens, in seconds. @default 3599 */
  tokenLifetime?: number;
  /** The clock, in epoch ms, so that fake timers can drive Texas's cache. @default Date.now */
  now?: () => number;
  /** Identity providers enabled for the app. @default ['entra_id', 'maskinporten', 'tokenx'] */
  enabled?: readonly string[];
  /** Simulated latency of the identity provider, in ms (makes coalescing observable). @default 0 */
  upstreamDelay?: number;
}

/** One request as Texas saw it. */
export type TexasRequest = TexasServerRequest;

/** A running Texas-faithful server. */
export interface TexasTestServer {
  url: string;
  tokenEndpoint: string;
  exchangeEndpoint: string;
  introspectionEndpoint: string;
  /** Every request, in order. */
  readonly requests: TexasRequest[];
  /** Tokens minted "upstream" (cache misses and skip_cache), as opposed to HTTP requests. */
  readonly mints: number;
  /** The claims of a token this server minted and did not revoke, or null. */
  verify(token: string): Promise<JWTPayload | null>;
  /** From now on `verify` refuses this token (as an API does after its access policy changed). */
  revoke(token: string): void;
  /** A user's token, as a login would give it, for the exchange endpoint. */
  userToken(sub: string, expiresInSeconds?: number): Promise<string>;
  /** Makes the next `count` token requests fail as the provider's error would pass through. */
  failNext(count: number, status: number, error: string, description: string): void;
  /** Lifetime of tokens minted from now on, in seconds. */
  setTokenLifetime(seconds: number): void;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1, on a free port (idporten not enabled, as before). */
export async function startTexas(options: TexasTestOptions = {}): Promise<TexasTestServer> {
  const server = await startTexasServer({
    enabled: options.enabled ?? ['entra_id', 'maskinporten', 'tokenx'],
    ...(options.tokenLifetime !== undefined && { tokenLifetime: options.tokenLifetime }),
    ...(options.now !== undefined && { now: options.now }),
    ...(options.upstreamDelay !== undefined && { upstreamDelayMs: options.upstreamDelay }),
  });
  return {
    url: server.url,
    tokenEndpoint: server.tokenEndpoint,
    exchangeEndpoint: server.exchangeEndpoint,
    introspectionEndpoint: server.introspectionEndpoint,
    requests: server.requests,
    get mints() {
      return server.mints;
    },
    verify: (token) => server.verify(token) as Promise<JWTPayload | null>,
    revoke: (token) => server.revoke(token),
    userToken: (sub, expiresInSeconds = 3600) => server.mintUserToken(sub, { expiresInSeconds }),
    failNext: (count, status, error, description) => server.failNext(count, status, error, description),
    setTokenLifetime: (seconds) => server.setTokenLifetime(seconds),
    close: () => server.close(),
  };
}
