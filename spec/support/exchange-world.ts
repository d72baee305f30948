import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTexasServer, type MintUserTokenOptions, type TexasServer } from '../../lib/testing/texas-server.js';
import { asyncListener } from './async-listener.js';

// The on-behalf-of specs' world on loopback: the package's own Texas-faithful server
// (startTexasServer: it verifies the user token, does not strip `Bearer `, passes the provider's
// error through, keeps its own cache keyed by user token, honours skip_cache), and an API that
// accepts only tokens that server signed, recording the subject it saw for each request.

/** An exchange request as Texas received it. */
export interface Exchange {
  identity_provider: string;
  target: string;
  user_token: string;
  skip_cache?: boolean;
}

export interface ExchangeWorld {
  texas: TexasServer;
  texasExchangeEndpoint: string;
  apiUrl: string;
  /** A user's access token for this app, signed by the provider the world's Texas plays. */
  mintUserToken(sub: string, options?: MintUserTokenOptions): Promise<string>;
  /** Every exchange request Texas received since the last `reset()`, in order. */
  readonly exchanges: Exchange[];
  /** Per API request since the last `reset()`: the `x-request-id` it carried and the token's subject and audience. */
  readonly apiSeen: { requestId: string | undefined; sub: string; aud: string; jti: string }[];
  /** Tokens (by jti) the API refuses with 401 once, to drive the retry. */
  refuseOnce: Set<string>;
  /** Subjects whose first exchanged token the API refuses with 401. */
  refuseFirstTokenOf: Set<string>;
  /** Forgets the exchanges and API requests seen so far. */
  reset(): void;
  close(): Promise<void>;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startExchangeWorld(): Promise<ExchangeWorld> {
  // An identity provider takes a moment: lets concurrent exchanges interleave.
  const texas = await startTexasServer({ upstreamDelay: 2 });
  const apiSeen: ExchangeWorld['apiSeen'] = [];
  const refuseOnce = new Set<string>();
  const refuseFirstTokenOf = new Set<string>();
  const firstTokenSeen = new Set<string>();
  let from = 0;

  const api: Server = createServer(
    asyncListener(async (req, res) => {
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
        res.end(JSON.stringify(body));
      };
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ')) return json(401, { error: 'no token' });
      const claims = await texas.verify(auth.slice(7));
      if (claims === null) return json(401, { error: 'invalid token' });
      const sub = String(claims.sub);
      const jti = String(claims.jti);
      if (refuseOnce.delete(jti) || (refuseFirstTokenOf.has(sub) && !firstTokenSeen.has(sub) && firstTokenSeen.add(sub))) {
        return json(401, { error: 'token refused' });
      }
      await delay(Math.random() * 5);
      const requestId = req.headers['x-request-id'] as string | undefined;
      apiSeen.push({ requestId, sub, aud: String(claims.aud), jti });
      json(200, { sub, aud: claims.aud, requestId });
    }),
  );
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');

  return {
    texas,
    texasExchangeEndpoint: texas.exchangeEndpoint,
    apiUrl: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
    mintUserToken: (sub, options) => texas.mintUserToken(sub, options),
    get exchanges() {
      return texas.requests
        .slice(from)
        .filter((r) => r.path === '/api/v1/token/exchange')
        .map((r) => r.body as unknown as Exchange);
    },
    apiSeen,
    refuseOnce,
    refuseFirstTokenOf,
    reset() {
      from = texas.requests.length;
      apiSeen.length = 0;
    },
    async close() {
      api.closeAllConnections();
      await new Promise((resolve) => api.close(resolve));
      await texas.close();
    },
  };
}
