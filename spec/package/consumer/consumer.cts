// The CommonJS view of the same declarations.
import axios = require('axios');
import m2m = require('axios-m2m');

const api = axios.create({ token: { scope: 'api://a/.default' } });
m2m.attachToken(api, { source: m2m.fromEnv({ env: { NAIS_TOKEN_ENDPOINT: 'http://127.0.0.1:7164/api/v1/token' } }) });
void api.get('/x', { token: false });
const error: m2m.TokenError = new m2m.TokenError('network', 'down');
void error;
