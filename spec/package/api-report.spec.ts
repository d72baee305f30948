import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What etc/api-report.ts says of one entry (its `ApiReport`). */
interface ApiReport {
  entry: string;
  file: string;
  matches: boolean;
  actual: string;
  problems: string[];
}

const root = resolve(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The exported surface of every entry, as api-extractor reads the built declarations, against the
 * reports committed under etc/: a change of the surface that nobody reviewed (a rename, a widened
 * type, a new field) fails here until `npm run api:update` rewrites the report and the diff is
 * committed with the change.
 */
describe('the public API report (etc/*.api.md)', function () {
  this.timeout(120_000);
  let reports: ApiReport[];

  before(() => {
    if (!existsSync(join(root, 'dist', 'index.d.ts'))) execFileSync(npm, ['run', 'build'], { cwd: root, stdio: 'ignore' });
    // A child process: the spec's typecheck then needs nothing of api-extractor's.
    const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    reports = JSON.parse(execFileSync(process.execPath, [tsx, join(root, 'etc', 'api-report.ts'), '--json'], { cwd: root, encoding: 'utf8' })) as ApiReport[];
  });

  it('has one report for each entry of package.json exports', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    const subpaths = Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json');
    expect(reports.map((r) => r.entry)).to.deep.equal(subpaths);
    expect(reports.map((r) => r.file)).to.deep.equal(['axios-m2m.api.md', 'axios-m2m-testing.api.md', 'axios-m2m-opentelemetry.api.md', 'axios-m2m-fetch.api.md']);
    for (const { file } of reports) expect(existsSync(join(root, 'etc', file)), `etc/${file}`).to.equal(true);
  });

  it('matches the build: the exported surface changed only with its report (npm run api:update)', () => {
    for (const report of reports) {
      const committed = readFileSync(join(root, 'etc', report.file), 'utf8');
      expect(report.actual, `etc/${report.file} (${report.entry}) differs from the build: review, then npm run api:update`).to.equal(committed);
      expect(report.matches, report.file).to.equal(true);
    }
  });

  it('documents every export with TSDoc, exports every type it names, and links only to what exists', () => {
    const gaps = reports
      .flatMap((report) => report.problems.map((problem) => `${report.entry}: ${problem}`))
      .filter((problem) => /ae-undocumented|ae-forgotten-export|ae-unresolved-link|tsdoc-/.test(problem));
    expect(gaps).to.deep.equal([]);
  });
});
