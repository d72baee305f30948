// A job whose only request waits on a slow endpoint: it must get its token before it exits.
import { clientCredentials } from '../../../../lib/sources/client-credentials.js';

const tokens = clientCredentials({ tokenEndpoint: process.env.TOKEN_ENDPOINT!, clientId: 'c', clientSecret: 'child-secret' });
const token = await tokens.getToken('api://dev-gcp.team.api/.default');
console.log(`token ${token.token}`);
