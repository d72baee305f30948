// An Express app whose routes call an internal API through one attached axios instance. Its error
// handler turns a TokenError into a 503 (our token source failed) or 502 (the API refused us),
// without leaking details to the client; the details go to the log.
//
// Extra packages: express (types for TypeScript: @types/express).
// Inputs (environment): NAIS_TOKEN_ENDPOINT (or the AZURE_* variables), API_URL, SCOPE.
// Run: node --import tsx examples/express-app.ts  (starts, calls itself twice, and stops)
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import axios, { isAxiosError } from 'axios';
import express, { type NextFunction, type Request, type Response } from 'express';
import { attachToken, fromEnv, isTokenError } from 'axios-m2m';

export function createApp(env: Record<string, string | undefined> = process.env) {
  // Once, at start-up: fromEnv() picks Texas on NAIS, client credentials elsewhere.
  const api = axios.create({ baseURL: env.API_URL ?? '', timeout: 5_000 });
  attachToken(api, { source: fromEnv({ env }), scope: env.SCOPE });

  const app = express();
  app.get('/things', async (_req, res) => {
    const { data } = await api.get<unknown>('/things'); // Express 5 passes a rejection to the error handler
    res.json({ things: data });
  });
  app.get('/broken', async (_req, res) => {
    const { data } = await api.get<unknown>('/things', { token: { scope: 'api://unknown/.default' } });
    res.json(data);
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (isTokenError(error)) {
      // Safe to log whole: a TokenError never holds a secret or a token.
      console.error(`token error [${error.code}] ${error.message}`);
      // configuration/throttled/network/timeout/5xx: we cannot get a token now -> 503; others: 502.
      const unavailable = ['network', 'timeout', 'throttled', 'server_error'].includes(error.code);
      res.status(unavailable ? 503 : 502).json({ error: 'upstream authentication failed' });
    } else if (isAxiosError(error)) {
      res.status(502).json({ error: `upstream answered ${error.response?.status ?? 'nothing'}` });
    } else {
      res.status(500).json({ error: 'internal error' });
    }
  });
  return app;
}

export async function main(env: Record<string, string | undefined> = process.env): Promise<void> {
  const server = createApp(env).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const path of ['/things', '/broken']) {
      const response = await fetch(base + path);
      console.log(`GET ${path}: ${response.status} ${await response.text()}`);
    }
  } finally {
    server.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
