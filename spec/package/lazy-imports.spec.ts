import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..', '..');

// Dependencies that most services never need, so importing the package must not load them: they
// cost start-up time (`npm run bench`, section 8, has the figures). jose signs client
// assertions (private_key_jwt) and loads on the first one; https-proxy-agent tunnels through a
// proxy and loads on the first request that goes through one (lib/http/proxy.ts).
const LOADED_ON_USE = ['jose', 'https-proxy-agent'];

// Runs in a fresh Node process (ESM or CommonJS): records every module loaded, through a loader
// hook (ES modules) and require.cache (CommonJS), while it imports the built package, then gets
// a token with a client assertion from a loopback endpoint, then tries one through a proxy.
const CHILD = (load: string) => `(async () => {
  const { register, createRequire } = process.getBuiltinModule('node:module');
  const { readFileSync } = process.getBuiltinModule('node:fs');
  const { createServer } = process.getBuiltinModule('node:http');
  const { generateKeyPairSync } = process.getBuiltinModule('node:crypto');
  const log = process.env.LOAD_LOG;
  register('data:text/javascript,' + encodeURIComponent(
    'import { appendFileSync } from "node:fs";' +
    'export async function load(url, context, next) { appendFileSync(' + JSON.stringify(log) + ', url + "\\\\n"); return next(url, context); }'));
  const packages = () => {
    const files = [...(readFileSync(log, { encoding: 'utf8', flag: 'a+' }).split('\\n')), ...Object.keys(createRequire(process.cwd() + '/').cache)];
    const names = files.map((f) => /[\\\\/]node_modules[\\\\/]((@[^\\\\/]+[\\\\/])?[^\\\\/]+)/.exec(f)?.[1]).filter(Boolean);
    return [...new Set(names)].sort();
  };
  const m2m = ${load};
  const atImport = packages();
  const server = createServer((req, res) => { req.resume(); req.on('end', () => res.end(JSON.stringify({ token_type: 'Bearer', expires_in: 3599, access_token: 'tok' }))); });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const jwk = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'k' };
  const source = m2m.clientCredentials({ tokenEndpoint: 'http://127.0.0.1:' + server.address().port + '/token', clientId: 'c', privateJwk: jwk });
  await source.getToken('api://x/.default');
  const afterAssertion = packages();
  // An https endpoint through a proxy (the same server, which refuses CONNECT): the request fails,
  // but only after loading the tunnelling agent.
  const proxied = m2m.clientCredentials({ tokenEndpoint: 'https://login.example.invalid/token', clientId: 'c', clientSecret: 's', proxy: 'http://127.0.0.1:' + server.address().port, retries: 0 });
  await proxied.getToken('api://x/.default').catch(() => undefined);
  server.closeAllConnections();
  server.close();
  console.log(JSON.stringify({ atImport, afterAssertion, afterProxy: packages() }));
})();`;

describe('import("axios-m2m") loads only what every user needs (built dist/)', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    if (!existsSync(join(root, 'dist', 'index.js'))) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    dir = mkdtempSync(join(tmpdir(), 'axios-m2m-loads-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const formats = {
    ESM: ['--input-type=module', `await import(${JSON.stringify(pathToFileURL(join(root, 'dist', 'index.js')).href)})`],
    CommonJS: ['--input-type=commonjs', `require(${JSON.stringify(join(root, 'dist', 'index.cjs'))})`],
  } as const;

  for (const [format, [inputType, load]] of Object.entries(formats)) {
    it(`${format}: not ${LOADED_ON_USE.join(' nor ')} at import; jose once a client assertion is signed, https-proxy-agent once a proxy is used`, () => {
      const child = spawnSync(process.execPath, [inputType, '-e', CHILD(load)], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, NODE_V8_COVERAGE: '', LOAD_LOG: join(dir, `${format}.log`) },
        timeout: 50_000,
      });
      expect(child.stderr).to.equal('');
      const { atImport, afterAssertion, afterProxy } = JSON.parse(child.stdout) as Record<string, string[]>;
      expect(atImport).to.include('axios'); // the records see the package's dependencies
      for (const name of LOADED_ON_USE) expect(atImport, `${name} at import`).to.not.include(name);
      expect(afterAssertion).to.include('jose').and.not.include('https-proxy-agent');
      expect(afterProxy).to.include('https-proxy-agent');
    });
  }
});
