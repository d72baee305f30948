import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TexasServer } from '../lib/testing/texas-server.js';

// The API the demo calls: node:http, nothing else. It accepts a bearer token only if the Texas
// server's `verify` does (signature, issuer, expiry, not revoked), answers 401 otherwise, and can
// revoke the token it last saw, as an API does after its access policy changed.

export interface DemoApi {
  url: string;
  /** Requests that reached the API, accepted or not. */
  readonly requests: number;
  /** Stops accepting the last token the API saw. */
  revokeLastToken(): void;
  close(): Promise<void>;
}

export async function startProtectedApi(texas: TexasServer): Promise<DemoApi> {
  let lastToken = '';
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
    lastToken = token;
    void texas.verify(token).then((claims) => {
      res.writeHead(claims ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(claims ? { ok: true, aud: claims.aud } : { error: 'invalid_token' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    revokeLastToken: () => texas.revoke(lastToken),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
