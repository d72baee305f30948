import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/run-example.js';

// `axios-m2m/opentelemetry` sits on the events: users without OpenTelemetry install nothing, and
// the SDK stays the application's choice.
describe('the axios-m2m/opentelemetry entry', () => {
  before(() => {
    if (!existsSync(join(ROOT, 'dist', 'opentelemetry.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  });
  const built = (file: string) => readFileSync(join(ROOT, 'dist', file), 'utf8');
  const modules = (code: string) => [...code.matchAll(/(?:from\s+|require\()\s*["']([^"']+)["']/g)].map((m) => m[1]);

  it('imports @opentelemetry/api and Node built-ins only, in both builds', () => {
    for (const file of ['opentelemetry.js', 'opentelemetry.cjs']) {
      expect(new Set(modules(built(file))), file).to.deep.equal(new Set(['diagnostics_channel', '@opentelemetry/api']));
    }
  });

  it('is imported by nothing else: the main entry and the rest of lib/ never load OpenTelemetry', () => {
    for (const file of ['index.js', 'index.cjs', 'testing.js', 'cli.js']) expect(built(file), file).to.not.include('@opentelemetry');
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? (entry.name === 'opentelemetry' ? [] : sources(join(dir, entry.name))) : [join(dir, entry.name)],
      );
    for (const file of sources(join(ROOT, 'lib'))) {
      expect(readFileSync(file, 'utf8'), file).to.not.match(/@opentelemetry|opentelemetry\//);
    }
  });

  it('is declared as a subpath export with types first, and @opentelemetry/api as an optional peer', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { import: Record<string, string>; require: Record<string, string> }>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(pkg.exports['./opentelemetry']).to.deep.equal({
      import: { types: './dist/opentelemetry.d.ts', default: './dist/opentelemetry.js' },
      require: { types: './dist/opentelemetry.d.cts', default: './dist/opentelemetry.cjs' },
    });
    expect(pkg.peerDependenciesMeta['@opentelemetry/api']).to.deep.equal({ optional: true });
  });
});
