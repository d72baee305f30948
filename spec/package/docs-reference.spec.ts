import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { isExternal, links } from '../support/markdown.js';
import { ROOT } from '../support/run-example.js';

// `npm run docs` builds the API reference (TypeDoc, markdown) from the TSDoc of the four public
// entry points, with typedoc.json's `treatWarningsAsErrors`: an export without documentation, a
// {@link} to nothing or a type the entry points use but do not export fails it. Here it runs as
// the script does, into a folder of its own, and every relative link of what it wrote must resolve.

const typedoc = join(dirname(createRequire(import.meta.url).resolve('typedoc/package.json')), 'bin', 'typedoc');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => join(dir, file));
}

describe('the API reference (npm run docs)', function () {
  this.timeout(180_000);
  let out: string;
  let run: { code: number; output: string };

  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'axios-m2m-reference-'));
    run = await new Promise((resolve) => {
      execFile(process.execPath, [typedoc, '--out', out], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', NODE_V8_COVERAGE: '' } }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` }),
      );
    });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('is what npm run docs builds, from typedoc.json', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(manifest.scripts.docs).to.equal('typedoc');
    const config = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8')) as { treatWarningsAsErrors?: boolean; entryPoints: string[] };
    expect(config.treatWarningsAsErrors).to.equal(true);
    expect(config.entryPoints).to.have.members(['lib/index.ts', 'lib/testing/texas-server.ts', 'lib/opentelemetry/index.ts', 'lib/fetch/index.ts']);
  });

  it('builds with no warning: every public export documented, every {@link} resolved', () => {
    const problems = run.output.split('\n').filter((line) => /\[(warning|error)\]/.test(line));
    expect(problems).to.deep.equal([]);
    expect(run.code, run.output).to.equal(0);
  });

  it('documents each entry point, and every relative link in it resolves', () => {
    expect(existsSync(join(out, 'README.md')), run.output).to.equal(true);
    const modules = readFileSync(join(out, 'README.md'), 'utf8');
    for (const name of ['axios-m2m', 'axios-m2m/testing', 'axios-m2m/opentelemetry', 'axios-m2m/fetch']) expect(modules).to.include(`[${name}]`);
    const dead = markdownFiles(out).flatMap((file) =>
      links(readFileSync(file, 'utf8'))
        .filter(({ target }) => !isExternal(target) && !target.startsWith('#'))
        .filter(({ target }) => !existsSync(join(dirname(file), decodeURI(target.split('#')[0]!))))
        .map(({ line, target }) => `${relative(out, file)}:${line}: ${target}`),
    );
    expect(dead).to.deep.equal([]);
  });
});
