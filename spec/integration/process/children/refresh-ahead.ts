// A job whose last request triggers a refresh ahead. With MODE=hang the endpoint never answers the
// refresh: the job must still end as soon as its work is done. With MODE=join the refresh is slow,
// and a caller that needs a token after the old one expired joins it: that caller must get it.
import diagnosticsChannel from 'node:diagnostics_channel';
import { texas } from '../../../../lib/sources/texas.js';

const SCOPE = 'api://dev-gcp.team.api/.default';
const endpoint = process.env.TOKEN_ENDPOINT!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let refreshing = false;
diagnosticsChannel.subscribe('axios-m2m:refresh:start', () => {
  refreshing = true;
});

// expires_in 4 (see the spec's endpoint): served for 3 s, refreshed ahead in its last 750 ms.
const tokens = texas({ endpoint, expiryMargin: 0 });
const first = await tokens.getToken(SCOPE);
console.log(`first ${first.token}`);
// Requests go on until one of them starts the refresh ahead (bounded: 100 x 50 ms).
for (let i = 0; i < 100 && !refreshing; i += 1) {
  await sleep(50);
  await tokens.getToken(SCOPE);
}
console.log(`refresh started ${refreshing}`);
if (process.env.MODE === 'join') {
  // After the old token expired, with the refresh still under way: this caller joins it and waits.
  await sleep(Math.max(0, first.expiresAt - Date.now() + 50));
  const next = await tokens.getToken(SCOPE);
  console.log(`joined ${next.token}`);
}
console.log('last line');
