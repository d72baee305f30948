// Shared by bench/index.ts and the sections in bench/sections/: counts, formatting, loopback servers.
import { ConfidentialClientApplication } from '@azure/msal-node';
import { measure } from 'mitata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const QUICK = process.env.BENCH_QUICK === '1';
export const ROUNDS = QUICK ? 2 : 5;
/** CPU time mitata spends on one variant in one round, in ns. */
export const MICRO_TIME = QUICK ? 5e6 : 150e6;
/** The median time of one call, in ns, from mitata. */
export const p50 = async (fn: () => unknown, minCpuTime: number) => (await measure(fn, { min_cpu_time: minCpuTime, min_samples: QUICK ? 2 : 12 })).p50;
export const progress = (line: string) => process.stderr.write(`… ${line}\n`);
export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const table = (title: string, head: string[], rows: (string | number)[][]) => {
  console.log(`\n### ${title}\n`);
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
};

export const listen = (server: Server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
export const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
export const close = (server: Server) => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));

/** What a loopback token endpoint hands out for its n-th request (1-based) and the scope asked for. */
export type IssueToken = (n: number, scope: string | null) => string;

/**
 * A loopback token endpoint (client credentials, form body) that counts its requests and keeps
 * every token it issued, so a bench can revoke them all at the API. `delay` holds each answer for
 * a few milliseconds, as Entra does, so that herds of callers can form.
 */
export async function startTokenEndpoint(issue: IssueToken, delay = 0) {
  let count = 0;
  const issued: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      count += 1;
      const token = issue(issued.length + 1, new URLSearchParams(body).get('scope')); // unique for the run: reset() clears only the count
      issued.push(token);
      const answer = JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: token });
      const send = () => res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      if (delay > 0) setTimeout(send, delay);
      else send();
    });
  });
  await listen(server);
  return { url: `${url(server)}/tenant/oauth2/v2.0/token`, count: () => count, reset: () => (count = 0), issued, server };
}

/** A loopback token endpoint as {@link startTokenEndpoint} returns it. */
export type TokenEndpoint = Awaited<ReturnType<typeof startTokenEndpoint>>;

/** A keep-alive loopback API that accepts any bearer except revoked ones. */
export async function startApi() {
  const revoked = new Set<string>();
  const server = createServer((req, res) => {
    const token = req.headers.authorization?.slice(7) ?? '';
    res.statusCode = token && !revoked.has(token) ? 200 : 401;
    res.end('{"ok":true}');
  });
  server.keepAliveTimeout = 60_000;
  await listen(server);
  return { url: url(server), revoked, server };
}

/** A loopback API as {@link startApi} returns it. */
export type Api = Awaited<ReturnType<typeof startApi>>;

/**
 * msal-node pointed at a loopback token endpoint: an https authority on 127.0.0.1 (msal requires
 * https) whose metadata names the endpoint, and a network client that sends msal's POST with fetch
 * to the plain-http loopback server, so no TLS is needed and every token request is counted there.
 */
export function msalClient(tokenEndpointUrl: string): ConfidentialClientApplication {
  const port = new URL(tokenEndpointUrl).port;
  const authority = `https://127.0.0.1:${port}/tenant`;
  return new ConfidentialClientApplication({
    auth: {
      clientId: 'client',
      clientSecret: 'secret',
      authority,
      knownAuthorities: [`127.0.0.1:${port}`],
      authorityMetadata: JSON.stringify({
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        issuer: `${authority}/v2.0`,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
        jwks_uri: `${authority}/discovery/v2.0/keys`,
      }),
    },
    system: {
      networkClient: {
        async sendGetRequestAsync() {
          throw new Error('no GET expected: the authority metadata is given');
        },
        async sendPostRequestAsync(_url: string, options?: { body?: string }) {
          const response = await fetch(tokenEndpointUrl, {
            method: 'POST',
            body: options?.body ?? null,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          });
          return { headers: Object.fromEntries(response.headers), status: response.status, body: (await response.json()) as never };
        },
      },
    },
  });
}
