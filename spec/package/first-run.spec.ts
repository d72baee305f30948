import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { codeBlocks } from '../support/markdown.js';
import { installedVersion, packInto } from '../support/packed.js';
import { ROOT } from '../support/run-example.js';

// The README's "First run on a laptop" as a new user follows it, from the packed tarball: its
// set-up commands in a fresh folder outside the project, its file saved under the name it gives,
// its command, and the output it shows. Only the install differs: the tarball stands in for
// `axios-m2m`, and axios and tsx are pinned to the versions this project has, so that npm takes
// them from its cache (`--prefer-offline`) and the spec neither waits on nor needs the registry.

export interface FirstRun {
  /** The set-up commands, as the README gives them (the install among them). */
  setup: string[];
  file: string;
  code: string;
  command: string;
  output: string;
}

/** The first-run section of the README, taken apart: set-up, file name and code, command, output. */
export function firstRun(readme: string): FirstRun {
  const start = readme.indexOf('\n## First run on a laptop\n');
  const end = readme.indexOf('\n## ', start + 1);
  if (start === -1) throw new Error('README.md has no "## First run on a laptop" section');
  const section = readme.slice(start, end === -1 ? undefined : end);
  const blocks = codeBlocks(section);
  const code = blocks.findIndex((block) => block.marker === '<!-- quick-start:first-run -->');
  const [setup, command, output] = [blocks[code - 1], blocks[code + 1], blocks[code + 2]];
  const file = /Save this as `([^`]+)`/.exec(section)?.[1];
  if (code === -1 || setup?.lang !== 'sh' || command?.lang !== 'sh' || output?.lang !== 'text' || !file) {
    throw new Error('the first run is not: set-up (sh), "Save this as `<file>`", the file (ts), the command (sh), its output (text)');
  }
  return { setup: setup.code.split('\n').filter((line) => line.trim() !== ''), file, code: blocks[code]!.code, command: command.code.trim(), output: output.code };
}

/** The install line with the tarball for axios-m2m and this project's versions of the others. */
export function offlineInstall(line: string, tarball: string, version: (name: string) => string): string {
  const words = line.replace(/#.*$/, '').trim().split(/\s+/);
  if (words[0] !== 'npm' || !['install', 'i'].includes(words[1]!)) throw new Error(`not an npm install: ${line}`);
  const packages = words.slice(2).map((name) => (name === 'axios-m2m' ? `./${tarball}` : `${name}@${version(name)}`));
  return ['npm', 'install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...packages].join(' ');
}

describe('the README first run, from the packed tarball in a fresh folder', function () {
  this.timeout(120_000);
  let folder: string;
  const steps = firstRun(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  // Outside the project (no node_modules above it to fall back on), with this Node first on the
  // PATH, and none of the npm_* variables of an `npm test` around it (npm would read them as config).
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  env.NODE_V8_COVERAGE = '';

  function sh(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile('sh', ['-c', command], { cwd: folder, env, timeout: 90_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
      );
    });
  }

  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'axios-m2m-first-run-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('sets up as written (npm init -y, "type": "module", the install), saves the file, and prints what the README shows', async () => {
    const tarball = packInto(folder, { rebuild: false });
    for (const line of steps.setup) {
      const command = /^\s*npm (install|i)\b/.test(line) ? offlineInstall(line, tarball, installedVersion) : line;
      const result = await sh(command);
      expect(result, command).to.include({ code: 0, stderr: '' });
    }
    expect(JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'))).to.include({ type: 'module' });
    writeFileSync(join(folder, steps.file), `${steps.code}\n`);
    const result = await sh(steps.command);
    expect(result.stderr).to.equal('');
    expect(result.stdout.trim()).to.equal(steps.output.trim());
    expect(result.code).to.equal(0);
  });

  describe('reading the README (each check catches what it names)', () => {
    const readme = (setup: string, saveAs = 'Save this as `first-run.ts`:') =>
      [
        '# x',
        '## First run on a laptop',
        '```sh',
        setup,
        '```',
        saveAs,
        '<!-- quick-start:first-run -->',
        '```ts',
        'code();',
        '```',
        '```sh',
        'npx tsx first-run.ts',
        '```',
        '```text',
        'out',
        '```',
        '## Next',
      ].join('\n');

    it('takes the section apart', () => {
      expect(firstRun(readme('npm init -y\nnpm install axios-m2m axios tsx'))).to.deep.equal({
        setup: ['npm init -y', 'npm install axios-m2m axios tsx'],
        file: 'first-run.ts',
        code: 'code();',
        command: 'npx tsx first-run.ts',
        output: 'out',
      });
    });

    it('refuses a first run that names no file', () => {
      expect(() => firstRun(readme('npm init -y', 'Save this:'))).to.throw('the first run is not');
    });

    it('installs the tarball for axios-m2m and pins the rest', () => {
      expect(offlineInstall('npm install axios-m2m axios tsx   # all three', 'axios-m2m-1.0.0.tgz', (name) => `${name.length}.0.0`)).to.equal(
        'npm install --prefer-offline --no-audit --no-fund --loglevel=error ./axios-m2m-1.0.0.tgz axios@5.0.0 tsx@3.0.0',
      );
    });
  });
});
