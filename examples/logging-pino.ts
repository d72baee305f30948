// Logging token events with pino: failed token requests, failed background refreshes, and 401
// retries. The events never hold a secret or a token, so they can be logged as they are.
//
// Extra packages: pino.
// Inputs (environment): NAIS_TOKEN_ENDPOINT (or the AZURE_* variables), API_URL, SCOPE.
// Run: node --import tsx examples/logging-pino.ts
import axios from 'axios';
import { pino } from 'pino';
import { attachToken, fromEnv, isTokenError, subscribe } from 'axios-m2m';

const logger = pino({ base: { app: 'example' } });

subscribe('axios-m2m:token:request', (event) => {
  if (event.outcome === 'error') logger.warn({ token: event }, 'token request failed');
  else logger.info({ token: event }, 'token fetched');
});
subscribe('axios-m2m:refresh:error', (event) => logger.warn({ token: event }, 'background token refresh failed'));
subscribe('axios-m2m:request:retry', (event) => logger.info({ retry: event }, 'token refused, retried once'));

const api = axios.create({ baseURL: process.env.API_URL ?? '' });
attachToken(api, { source: fromEnv(), scope: process.env.SCOPE });

try {
  await api.get('/things');
  await api.get('/things');
} catch (error) {
  // A TokenError is safe to log whole: it never carries a secret or a token.
  if (isTokenError(error)) logger.error({ err: error }, 'could not get a token');
  else throw error;
}
