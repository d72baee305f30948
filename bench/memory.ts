// Run by bench/index.ts in a child process with --expose-gc: heap per cached scope, and the bound.
import { withCache } from '../lib/index.js';

const gc = globalThis.gc as () => void;
const fetch = async (scope: string) => ({ token: `eyJ.${scope}.signature-of-a-typical-length-0123456789abcdef`, expiresAt: Date.now() + 3_600_000 });
const scopes = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `api://dev-gcp.team.${prefix}-${i}/.default`);

const names = scopes(10_000, 'app'); // the scope strings exist before, as in a service
gc();
const before = process.memoryUsage().heapUsed;
const source = withCache(fetch);
for (const scope of names) await source.getToken(scope);
gc();
const perScope = (process.memoryUsage().heapUsed - before) / 10_000;
const size10k = source.size;

const bounded = withCache(fetch); // default maxEntries
for (const scope of scopes(100_000, 'many')) await bounded.getToken(scope);
process.stdout.write(JSON.stringify({ perScope, size10k, size100k: bounded.size }));
