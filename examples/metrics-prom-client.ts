// Token metrics with prom-client: cache hits and misses, token request durations, errors by code,
// and 401 retries, from the package's diagnostics_channel events.
//
// Extra packages: prom-client.
// Inputs (environment): NAIS_TOKEN_ENDPOINT (or the AZURE_* variables), API_URL, SCOPE.
// Run: node --import tsx examples/metrics-prom-client.ts
import axios from 'axios';
import { Counter, Histogram, Registry } from 'prom-client';
import { attachToken, fromEnv, subscribe } from 'axios-m2m';

const registry = new Registry();

const tokensServed = new Counter({
  name: 'm2m_tokens_served_total',
  help: 'Tokens handed to requests, by whether they came from the cache',
  labelNames: ['source', 'cache'] as const,
  registers: [registry],
});
const tokenRequestSeconds = new Histogram({
  name: 'm2m_token_request_duration_seconds',
  help: 'Upstream token requests (retries included), by outcome and reason',
  labelNames: ['source', 'outcome', 'reason'] as const,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});
const tokenErrors = new Counter({
  name: 'm2m_token_errors_total',
  help: 'Failed token requests, by TokenError code',
  labelNames: ['source', 'code'] as const,
  registers: [registry],
});
const retries = new Counter({
  name: 'm2m_retries_total',
  help: 'Requests re-sent once after the API refused their token',
  labelNames: ['status'] as const,
  registers: [registry],
});

// Scopes are left out of the labels on purpose: a service may use many, and labels multiply series.
subscribe('axios-m2m:token:served', (event) => {
  tokensServed.inc({ source: event.source, cache: event.fromCache ? 'hit' : 'miss' });
});
subscribe('axios-m2m:token:request', (event) => {
  tokenRequestSeconds.observe({ source: event.source, outcome: event.outcome, reason: event.reason }, event.duration / 1000);
  if (event.outcome === 'error') tokenErrors.inc({ source: event.source, code: event.code ?? 'unknown' });
});
subscribe('axios-m2m:request:retry', (event) => retries.inc({ status: String(event.status) }));

const api = axios.create({ baseURL: process.env.API_URL ?? '' });
attachToken(api, { source: fromEnv(), scope: process.env.SCOPE });

for (let i = 0; i < 10; i++) await api.get('/things');

// In a service, serve this on /metrics instead.
console.log(await registry.metrics());
