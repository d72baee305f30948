import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = resolve(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const RESOLUTIONS = ['node10', 'node16-cjs', 'node16-esm', 'bundler'] as const;

interface AttwResolution {
  resolution?: { fileName: string; isTypeScript: boolean };
}
interface AttwReport {
  analysis: {
    problems?: unknown[];
    entrypoints: Record<string, { resolutions: Record<string, AttwResolution> }>;
  };
  problems?: Record<string, unknown[]>;
}

/**
 * The packed tarball as TypeScript users resolve it, every entry of package.json's `exports`
 * (a new one is checked without touching this file): "Are the Types Wrong?" (attw, offline, on the
 * local tarball) must find types for each under node10, node16 from CommonJS and from ESM, and
 * bundler, with no problem; publint must find nothing to say, suggestions included.
 */
describe('the packed package resolves its types everywhere (attw, publint)', function () {
  this.timeout(180_000);
  let dir: string;
  let tarball: string;
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
  const entries = Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json');

  before(() => {
    if (!existsSync(join(root, 'dist', 'index.js'))) execFileSync(npm, ['run', 'build'], { cwd: root, stdio: 'ignore' });
    dir = mkdtempSync(join(tmpdir(), 'axios-m2m-types-'));
    execFileSync(npm, ['pack', '--silent', '--pack-destination', dir], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    tarball = join(
      dir,
      readdirSync(dir).find((name) => name.endsWith('.tgz'))!,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it(`attw: ${entries.join(', ')} each resolve to declarations under ${RESOLUTIONS.join(', ')}, with no problem`, () => {
    // --no-definitely-typed: nothing is fetched from the registry, only the tarball is read.
    const attw = spawnSync(
      process.execPath,
      [join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'), tarball, '--format', 'json', '--no-definitely-typed', '--entrypoints', ...entries],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_V8_COVERAGE: '', NO_COLOR: '1' } },
    );
    expect(attw.stdout, attw.stderr).to.not.equal('');
    const report = JSON.parse(attw.stdout) as AttwReport;
    const problems = report.analysis.problems ?? [];
    expect(problems, JSON.stringify(problems, null, 2)).to.deep.equal([]);
    expect(Object.keys(report.analysis.entrypoints)).to.have.members(entries);
    for (const entry of entries) {
      for (const kind of RESOLUTIONS) {
        const resolved = report.analysis.entrypoints[entry]!.resolutions[kind]?.resolution;
        // A new entry that fails under node10 needs a line in package.json's typesVersions.
        expect(resolved?.fileName, `${entry} under ${kind}`).to.match(/\.d\.[cm]?ts$/);
      }
    }
    expect(attw.status, attw.stderr).to.equal(0);
  });

  it('publint: nothing to report on the tarball, suggestions included', async () => {
    const bytes = readFileSync(tarball);
    const { messages, pkg } = await publint({
      pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
      level: 'suggestion',
      strict: true,
    });
    expect(messages.map((message) => `${message.type}: ${formatMessage(message, pkg) ?? message.code}`)).to.deep.equal([]);
  });
});
