// npm run bench:profile: where the time of a request goes with the package attached on a warm cache.
// A CPU profile (node:inspector) of N requests at concurrency 8 to a keep-alive loopback server,
// client and server in one process, with each sample's own time put down to the code it was in.
// It backs the per-request figure of `npm run bench`, whose end-to-end medians move by more than
// the package costs on a shared machine.
import axios from 'axios';
import { createServer, Agent } from 'node:http';
import { Session, type Profiler } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { attachToken, clientCredentials } from '../lib/index.js';

const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 20_000);

const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.method === 'POST') return res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'token' }));
  res.end('{"ok":true}');
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
const api = axios.create({ baseURL: base, httpAgent: agent });
attachToken(api, { source: clientCredentials({ tokenEndpoint: `${base}/token`, clientId: 'c', clientSecret: 's' }), scope: 'api://x/.default' });
await api.get('/warm');

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 }); // µs
await session.post('Profiler.start');
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next++ < REQUESTS) await api.get('/things');
  }),
);
const { profile } = await session.post('Profiler.stop');
session.disconnect();
agent.destroy();
server.close();

/** Where a sample's own time belongs. */
function owner({ functionName, url }: Profiler.ProfileNode['callFrame']): string {
  if (functionName.startsWith('(')) return functionName; // (garbage collector), (idle), (program)
  if (url.includes('/node_modules/')) return url.match(/\/node_modules\/((?:@[^/]+\/)?[^/]+)/)![1]!;
  if (url.includes('/lib/')) return 'axios-m2m (lib/)';
  if (url.startsWith('node:')) return 'Node.js core';
  return url === '' ? 'native (V8 and libuv)' : 'this script';
}
const owners = new Map(profile.nodes.map((node) => [node.id, owner(node.callFrame)]));
const samples = new Map<string, number>();
for (const id of profile.samples ?? []) samples.set(owners.get(id)!, (samples.get(owners.get(id)!) ?? 0) + 1);
const total = profile.samples?.length ?? 0;
console.log(`\n### Where a request's time goes (${REQUESTS.toLocaleString('en-US')} requests, ${total.toLocaleString('en-US')} samples)\n`);
console.log('| code (by package; axios-m2m is lib/) | share of samples |\n|---|---|');
for (const [name, count] of [...samples].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${name} | ${((count / total) * 100).toFixed(1)}% |`);
}
