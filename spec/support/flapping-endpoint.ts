import { AxiosError, AxiosHeaders, CanceledError, type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// A token endpoint that flaps, for the fault soak (spec/unit/interceptor/fault-soak.spec.ts, in simulated
// time, and bench/sections/07-fault-soak.ts, in real time on loopback), and the API beside it that
// accepts only unexpired tokens of its own. The phase decides how a request is answered when it
// arrives: a request that arrived while the endpoint hung keeps hanging after it comes back (a
// server that lost a request does not find it again), until the client gives up on it.
//
// The same model speaks through an axios adapter (simulated time: no sockets, every delay is a
// timer that sinon's clock drives) or through a real node:http server (real time).

/** What the endpoint does with a request arriving now. */
export type PhaseKind = 'up' | 'down' | 'hanging' | '503' | '429';

/** One token request as the endpoint saw it. */
export interface Attempt {
  readonly scope: string;
  /** Arrival, epoch ms. */
  readonly at: number;
  /** The phase at arrival, which decided the answer. */
  readonly outcome: PhaseKind;
  /** Whether the client asked to skip Texas's cache (a forced refresh). */
  readonly forced: boolean;
  /** The token handed out (outcome `up`). */
  token?: string;
  /** `expires_in` as sent, in seconds (outcome `up`). */
  expiresIn?: number;
  /** `Retry-After` as sent, in seconds (outcome `429`). */
  retryAfter?: number;
  /** When the exchange ended: answered, reset, or abandoned by the client. */
  endedAt?: number;
}

export interface FlappingEndpointOptions {
  /** Lifetime of minted tokens, in seconds. */
  lifetime: number;
  /**
   * Answer as Texas does from its own cache (docs/protocols/texas.md): a token of 120 s or less is served
   * from the cache for half its lifetime, with the REMAINING lifetime in whole seconds;
   * `skip_cache` mints anew. Without it every request mints (an identity provider's endpoint).
   */
  texasCache?: boolean;
}

/**
 * How long after an answer the package serves its token by default: `expires_in` less up to 1 s
 * (expires_in counts whole seconds from a second the server rounded down: lib/http/token-response.ts),
 * less the expiry margin, a tenth of that lifetime, at most 30 s (DESIGN.md). A 6 s token: 4.5 s.
 */
export const servableFor = (expiresInSeconds: number) => {
  const lifetime = lifetimeOf(expiresInSeconds);
  return lifetime - Math.min(30_000, lifetime / 10);
};

/** How long after an answer the package starts its refresh ahead by default: a quarter of the lifetime before its end, at most 60 s. */
export const refreshDueAfter = (expiresInSeconds: number) => {
  const lifetime = lifetimeOf(expiresInSeconds);
  return lifetime - Math.min(60_000, lifetime / 4);
};

const lifetimeOf = (expiresInSeconds: number) => expiresInSeconds * 1000 - Math.min(1000, expiresInSeconds * 500);

type Decision = { kind: 'answer'; status: number; headers: Record<string, string>; body: string } | { kind: 'reset' } | { kind: 'hang' };

export class FlappingEndpoint {
  readonly attempts: Attempt[] = [];
  /** Token -> the moment it really expires (the API's view). */
  readonly expiries = new Map<string, number>();
  /** Tokens the API was sent after they had expired, or that it never issued. */
  readonly refused: { token: string; at: number }[] = [];
  /** API requests answered 200. */
  apiRequests = 0;
  #phase: PhaseKind = 'up';
  #retryAfter = 2;
  #minted = 0;
  readonly #lifetime: number;
  readonly #texasCache: boolean;
  readonly #cache = new Map<string, { token: string; mintedAt: number }>();
  readonly #inFlight = new Map<string, number>();
  readonly #maxInFlight = new Map<string, number>();

  constructor(options: FlappingEndpointOptions) {
    this.#lifetime = options.lifetime;
    this.#texasCache = options.texasCache ?? false;
  }

  get phase(): PhaseKind {
    return this.#phase;
  }

  /** From now on, requests arriving are answered as `kind` says (`retryAfter` in seconds, for 429). */
  setPhase(kind: PhaseKind, retryAfter = 2): void {
    this.#phase = kind;
    this.#retryAfter = retryAfter;
  }

  /** Most token requests for `scope` ever in flight at once. */
  maxInFlight(scope: string): number {
    return this.#maxInFlight.get(scope) ?? 0;
  }

  /**
   * Whether the last token the endpoint handed out for `scope` was still inside the window in
   * which the package serves it (its lifetime minus the default expiry margin), counted from the
   * request's arrival. The last answer, not the longest: Texas answers a refresh from its cache
   * with the same token and a remaining `expires_in` rounded down to whole seconds, and the
   * package rightly goes by that newer, shorter figure.
   */
  validAt(scope: string, at = Date.now()): boolean {
    const last = this.attempts.findLast((a) => a.scope === scope && a.expiresIn !== undefined && a.at <= at);
    return last !== undefined && at < last.at + servableFor(last.expiresIn!);
  }

  /** The API's check: a token this endpoint issued, not yet expired. */
  accepts(token: string, now = Date.now()): boolean {
    const expiresAt = this.expiries.get(token);
    if (expiresAt !== undefined && now < expiresAt) return true;
    this.refused.push({ token, at: now });
    return false;
  }

  /** A request arrives: records it and decides its answer. Call {@link end} when the exchange ends. */
  receive(body: string, contentType: string | undefined, now = Date.now()): { attempt: Attempt; decision: Decision } {
    const fields = parseBody(body, contentType);
    const scope = typeof fields.target === 'string' ? fields.target : typeof fields.scope === 'string' ? fields.scope : '';
    const forced = fields.skip_cache === true || fields.skip_cache === 'true';
    const attempt: Attempt = { scope, at: now, outcome: this.#phase, forced };
    this.attempts.push(attempt);
    const inFlight = (this.#inFlight.get(scope) ?? 0) + 1;
    this.#inFlight.set(scope, inFlight);
    this.#maxInFlight.set(scope, Math.max(inFlight, this.maxInFlight(scope)));
    const json = { 'content-type': 'application/json' };
    switch (this.#phase) {
      case 'down':
        return { attempt, decision: { kind: 'reset' } };
      case 'hanging':
        return { attempt, decision: { kind: 'hang' } };
      case '503':
        return {
          attempt,
          decision: {
            kind: 'answer',
            status: 503,
            headers: json,
            body: JSON.stringify({ error: 'temporarily_unavailable', error_description: 'the service is down for maintenance' }),
          },
        };
      case '429':
        attempt.retryAfter = this.#retryAfter;
        return {
          attempt,
          decision: {
            kind: 'answer',
            status: 429,
            headers: { ...json, 'retry-after': String(this.#retryAfter) },
            body: JSON.stringify({ error: 'too_many_requests', error_description: 'slow down' }),
          },
        };
      case 'up': {
        const { token, expiresIn } = this.#token(scope, forced, now);
        attempt.token = token;
        attempt.expiresIn = expiresIn;
        return {
          attempt,
          decision: { kind: 'answer', status: 200, headers: json, body: JSON.stringify({ access_token: token, expires_in: expiresIn, token_type: 'Bearer' }) },
        };
      }
    }
  }

  /** The exchange of `attempt` ended (answered, reset, timed out or aborted by the client). */
  end(attempt: Attempt): void {
    if (attempt.endedAt !== undefined) return;
    attempt.endedAt = Date.now();
    this.#inFlight.set(attempt.scope, (this.#inFlight.get(attempt.scope) ?? 1) - 1);
  }

  #token(scope: string, forced: boolean, now: number): { token: string; expiresIn: number } {
    const lifetimeMs = this.#lifetime * 1000;
    if (this.#texasCache) {
      const entry = this.#cache.get(scope);
      // Texas's entry for a token of 120 s or less lives half its lifetime.
      const entryLife = this.#lifetime > 120 ? lifetimeMs - 120_000 : lifetimeMs / 2;
      if (!forced && entry && now < entry.mintedAt + entryLife) {
        return { token: entry.token, expiresIn: Math.floor((entry.mintedAt + lifetimeMs - now) / 1000) };
      }
    }
    this.#minted += 1;
    const token = `token-${this.#minted}`;
    this.expiries.set(token, now + lifetimeMs);
    if (this.#texasCache) this.#cache.set(scope, { token, mintedAt: now });
    return { token, expiresIn: this.#lifetime };
  }

  /**
   * An axios adapter speaking for the endpoint, for simulated time: `down` fails as a refused
   * connection does, `hanging` never answers, and both a config `timeout` and an aborted `signal`
   * end a request as axios's http adapter ends them.
   */
  adapter(): AxiosAdapter {
    return (config) =>
      new Promise<AxiosResponse>((resolve, reject) => {
        const { attempt, decision } = this.receive(String(config.data ?? ''), contentTypeOf(config));
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          config.signal?.removeEventListener?.('abort', onAbort);
          this.end(attempt);
          settle();
        };
        const onAbort = () => finish(() => reject(new CanceledError(undefined, config, {})));
        let timer: ReturnType<typeof setTimeout> | undefined;
        if (config.signal?.aborted) return onAbort();
        config.signal?.addEventListener?.('abort', onAbort, { once: true });
        if (decision.kind === 'reset') {
          return finish(() => reject(new AxiosError('connect ECONNREFUSED 127.0.0.1:7164', 'ECONNREFUSED', config, {})));
        }
        if (decision.kind === 'hang') {
          if (config.timeout) {
            timer = setTimeout(() => {
              const code = config.transitional?.clarifyTimeoutError ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED;
              finish(() => reject(new AxiosError(`timeout of ${config.timeout}ms exceeded`, code, config, {})));
            }, config.timeout);
          }
          return;
        }
        finish(() => settleAnswer(config, decision.status, decision.headers, decision.body, resolve, reject));
      });
  }

  /** An axios adapter for the API: 200 for a token this endpoint issued and that has not expired, else 401. */
  apiAdapter(): AxiosAdapter {
    return async (config) => {
      const token = String(config.headers?.Authorization ?? '').replace(/^Bearer /, '');
      const ok = this.accepts(token);
      if (ok) this.apiRequests += 1;
      return new Promise<AxiosResponse>((resolve, reject) =>
        settleAnswer(config, ok ? 200 : 401, { 'content-type': 'application/json' }, ok ? '{"ok":true}' : '{"error":"invalid_token"}', resolve, reject),
      );
    };
  }

  /** The endpoint on a real loopback server; `down` resets the connection (a network error). */
  async listen(): Promise<{ url: string; close(): Promise<void> }> {
    const server = createServer((req, res) => {
      const arrived = Date.now(); // when the headers came: the closest the server sees to the client's sending
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const { attempt, decision } = this.receive(body, req.headers['content-type'], arrived);
        res.on('close', () => this.end(attempt)); // answered, or the client gave up
        if (decision.kind === 'reset') req.socket.destroy();
        else if (decision.kind === 'answer') res.writeHead(decision.status, decision.headers).end(decision.body);
      });
    });
    return serve(server);
  }

  /** The API on a real loopback server. */
  async listenApi(): Promise<{ url: string; close(): Promise<void> }> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      const ok = this.accepts(token);
      if (ok) this.apiRequests += 1;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"ok":true}' : '{"error":"invalid_token"}');
    });
    server.keepAliveTimeout = 60_000;
    return serve(server);
  }
}

function contentTypeOf(config: InternalAxiosRequestConfig): string | undefined {
  const value = AxiosHeaders.from(config.headers).get('Content-Type');
  return typeof value === 'string' ? value : undefined;
}

function parseBody(body: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(body));
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** What axios's own adapters do with an answer: resolve, or reject with an AxiosError carrying the response. */
function settleAnswer(
  config: InternalAxiosRequestConfig,
  status: number,
  headers: Record<string, string>,
  body: string,
  resolve: (response: AxiosResponse) => void,
  reject: (error: unknown) => void,
): void {
  const response: AxiosResponse = { data: body, status, statusText: String(status), headers: new AxiosHeaders(headers), config, request: {} };
  if (!config.validateStatus || config.validateStatus(status)) return resolve(response);
  const code = status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST;
  reject(new AxiosError(`Request failed with status code ${status}`, code, config, {}, response));
}

async function serve(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  // A destroyed socket's idle timer (keep-alive timeout) stays armed and would hold the process
  // for seconds after the soak: each socket's timer is cleared as it is closed.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.setTimeout(0).destroy();
      }),
  };
}
