// What `import 'axios-m2m'` costs a service at start-up, over the axios it imports anyway: each
// run is a fresh Node process that loads axios, then times loading the built package (dist/, as
// users get it). jose (client assertions) and https-proxy-agent (proxies) are meant to load only
// when used, so the figure should stay small.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { QUICK, fmt, median, progress, table } from '../support.js';

export const heading = '8. Import cost';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GOAL_MS = 10;

// Each child prints [ms to load axios, ms to load axios-m2m after it].
const SCRIPTS = {
  ESM: {
    args: ['--input-type=module'],
    code: `const t0 = performance.now(); await import('axios'); const t1 = performance.now();
await import(${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)});
console.log(JSON.stringify([t1 - t0, performance.now() - t1]));`,
  },
  CommonJS: {
    args: ['--input-type=commonjs'],
    code: `const t0 = performance.now(); require('axios'); const t1 = performance.now();
require(${JSON.stringify(fileURLToPath(new URL('../../dist/index.cjs', import.meta.url)))});
console.log(JSON.stringify([t1 - t0, performance.now() - t1]));`,
  },
  // A fetch user imports the main entry for its source, then axios-m2m/fetch: what the second costs.
  'ESM, axios-m2m/fetch after the main entry': {
    args: ['--input-type=module'],
    code: `await import('axios'); await import(${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)});
const t1 = performance.now(); await import(${JSON.stringify(new URL('../../dist/fetch.js', import.meta.url).href)});
console.log(JSON.stringify([0, performance.now() - t1]));`,
  },
} as const;

function once(format: keyof typeof SCRIPTS): [number, number] {
  const { args, code } = SCRIPTS[format];
  const child = spawnSync(process.execPath, [...args, '-e', code], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_V8_COVERAGE: '', NODE_OPTIONS: '' },
    timeout: 30_000,
  });
  if (child.status !== 0) throw new Error(`import cost (${format}): the child failed: ${child.stderr.slice(0, 500)}`);
  return JSON.parse(child.stdout) as [number, number];
}

export default async function run(): Promise<void> {
  if (!existsSync(new URL('../../dist/index.js', import.meta.url))) {
    progress('building dist/ first (npm run build)');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  }
  const runs = QUICK ? 3 : 31;
  const formats = Object.keys(SCRIPTS) as (keyof typeof SCRIPTS)[];
  const results = Object.fromEntries(formats.map((f) => [f, { axios: [] as number[], ours: [] as number[] }]));
  once('ESM'); // warms the file system cache, so the first run is not the odd one out
  for (let i = 0; i < runs; i++) {
    // Taking turns, so a burst of load on the machine hits both formats alike.
    for (const format of formats) {
      const [axios, ours] = once(format);
      results[format]!.axios.push(axios);
      results[format]!.ours.push(ours);
    }
  }
  table(
    `8. Import cost (ms, from dist/, each run a fresh process that loads axios then axios-m2m, median of ${runs} runs)`,
    ['format', 'axios alone', 'axios-m2m over axios', 'goal'],
    formats.map((format) => {
      const over = median(results[format]!.ours);
      const axiosAlone = format.includes('fetch') ? '' : fmt(median(results[format]!.axios), 1);
      return [format, axiosAlone, fmt(over, 1), `within ${GOAL_MS} ms (${over <= GOAL_MS ? 'met' : 'not met'})`];
    }),
  );
}
