import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { installedVersion, npm, packInto } from '../support/packed.js';

const root = resolve(import.meta.dirname, '..', '..');

/**
 * The packed tarball, installed into a fresh project as a user would: `import` and `require`
 * work, no warning is printed, and a consumer type-checks against the shipped declarations.
 */
describe('the packed package', function () {
  this.timeout(180_000);
  let project: string;

  before(() => {
    project = mkdtempSync(join(tmpdir(), 'axios-m2m-pack-'));
    const tarball = packInto(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const axiosVersion = installedVersion('axios');
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', `./${tarball}`, `axios@${axiosVersion}`], {
      cwd: project,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  function run(file: string, code: string) {
    writeFileSync(join(project, file), code);
    return spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8' });
  }

  it('can be imported as ESM with named exports only', () => {
    const result = run(
      'esm.mjs',
      `import * as m2m from 'axios-m2m';
       console.log(JSON.stringify({ keys: Object.keys(m2m).sort(), hasDefault: 'default' in m2m }));`,
    );
    expect(result.stderr).to.equal('');
    const { keys, hasDefault } = JSON.parse(result.stdout) as { keys: string[]; hasDefault: boolean };
    expect(keys).to.include.members(['attachToken', 'tokenInterceptor', 'texas', 'clientCredentials', 'fromEnv', 'TokenError', 'withCache']);
    expect(hasDefault).to.equal(false);
  });

  it('can be required from CommonJS without a warning', () => {
    const result = run(
      'cjs.cjs',
      `const { attachToken, TokenError, fromEnv } = require('axios-m2m');
       const esm = import('axios-m2m');
       esm.then((m) => console.log(typeof attachToken, new TokenError('network', 'x') instanceof m.TokenError));`,
    );
    expect(result.stderr).to.equal('');
    expect(result.stdout.trim()).to.equal('function true');
  });

  it('serves axios-m2m/testing, as ESM and CommonJS: a Texas-faithful server that texas() gets a verifiable token from', () => {
    const script = (imports: string) => `${imports}
      (async () => {
        const server = await startTexasServer();
        const { token } = await texas({ endpoint: server.tokenEndpoint }).getToken('api://dev-gcp.team.api/.default');
        const claims = await server.verify(token);
        await server.close();
        console.log(claims.aud, server.mints);
      })();`;
    const esm = run('testing.mjs', script(`import { startTexasServer } from 'axios-m2m/testing'; import { texas } from 'axios-m2m';`));
    const cjs = run('testing.cjs', script(`const { startTexasServer } = require('axios-m2m/testing'); const { texas } = require('axios-m2m');`));
    for (const result of [esm, cjs]) {
      expect(result.stderr).to.equal('');
      expect(result.stdout.trim()).to.equal('api://dev-gcp.team.api 1');
    }
  });

  it('ships declarations that a strict consumer type-checks against, module augmentation included', () => {
    cpSync(join(root, 'spec', 'package', 'consumer'), project, { recursive: true });
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', join(project, 'tsconfig.json')], { cwd: project, encoding: 'utf8' });
    expect(result.stdout + result.stderr).to.equal('');
    expect(result.status).to.equal(0);
  });

  it('ships one build of the CLI: the bin, dist/cli.js, an ES module that runs', () => {
    const listing = execFileSync(npm, ['pack', '--dry-run', '--json'], { cwd: root }).toString();
    const files = (JSON.parse(listing) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files.filter((f) => /^dist\/cli\./.test(f))).to.deep.equal(['dist/cli.js']);
    const result = spawnSync(process.execPath, [join(project, 'node_modules', '.bin', 'axios-m2m'), '--version'], { cwd: project, encoding: 'utf8' });
    expect(result.stderr).to.equal('');
    expect(result.stdout.trim()).to.match(/^\d+\.\d+\.\d+/);
  });

  it('ships only dist, the README and what it links to (docs, examples, changelog, contributing guide)', () => {
    const listing = execFileSync(npm, ['pack', '--dry-run', '--json'], { cwd: root }).toString();
    const files = (JSON.parse(listing) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    const shipped = (f: string) => /^(dist|docs|examples)\//.test(f) || ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'CONTRIBUTING.md'].includes(f);
    expect(files.filter((f) => !shipped(f))).to.deep.equal([]);
  });
});
