import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asyncListener } from './async-listener.js';

/** One request as the API saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  token: string | undefined;
  contentType: string | undefined;
  body: string;
}

/**
 * A minimal API on loopback for interceptor specs: it records every request and answers 401 to
 * refused tokens (and to requests without one, when `requireToken` is set), else 200 with what it saw.
 * `state.statuses` scripts the next answers' statuses.
 */
export async function startRecordingApi() {
  const seen: SeenRequest[] = [];
  const refused = new Set<string>();
  const state = { requireToken: false, statuses: [] as number[] };
  const server = createServer(
    asyncListener(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const header = req.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
      const entry: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        token,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(entry);
      const refuse = (token !== undefined && refused.has(token)) || (state.requireToken && token === undefined);
      const status = state.statuses.shift() ?? (refuse ? 401 : 200); // scripted statuses first
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {}) });
      res.end(JSON.stringify({ status, ...entry }));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    refused,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
