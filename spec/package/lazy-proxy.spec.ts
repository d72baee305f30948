import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { childEnv, ROOT } from '../support/run-example.js';

// https-proxy-agent (and what it pulls in) is loaded on the first token request through a proxy,
// not at import: most apps use none. Checked on the built package, ESM and CommonJS, in a child
// process that lists the CommonJS modules loaded (https-proxy-agent is CommonJS either way).

const ours = `${ROOT}node_modules/https-proxy-agent/`;

/** Whether this package's https-proxy-agent was loaded: after import, and after one request through a proxy. */
function loaded(format: 'esm' | 'cjs'): { atImport: boolean; afterProxiedRequest: boolean } {
  const load = format === 'esm' ? "await import('./dist/index.js')" : "require('./dist/index.cjs')";
  const script = `
    const { createRequire } = require('node:module');
    const cache = () => Object.keys(createRequire(process.cwd() + '/x').cache);
    const has = () => cache().some((path) => path.startsWith(${JSON.stringify(ours)}));
    (async () => {
      const m = ${load};
      const atImport = has();
      // A proxy on a port where nothing listens: the request fails, after loading the agent.
      const tokens = m.clientCredentials({ tokenEndpoint: 'https://login.example/t', clientId: 'c', clientSecret: 's', proxy: 'http://127.0.0.1:9', retries: 0 });
      await tokens.getToken('api://x/.default').catch(() => {});
      console.log(JSON.stringify({ atImport, afterProxiedRequest: has() }));
    })();
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, env: childEnv() }).toString()) as {
    atImport: boolean;
    afterProxiedRequest: boolean;
  };
}

describe('import cost: https-proxy-agent only for a proxy', function () {
  this.timeout(60_000);
  before(() => {
    if (!existsSync(`${ROOT}dist/index.js`)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  });

  for (const format of ['esm', 'cjs'] as const) {
    it(`${format}: not loaded by importing the package, loaded by the first request through a proxy`, () => {
      expect(loaded(format)).to.deep.equal({ atImport: false, afterProxiedRequest: true });
    });
  }
});
