import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// The unit tier mirrors lib/: every module has its spec at the same path under spec/unit/, so
// that whoever changes a module finds its spec without searching, and a module without one shows.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Files of lib/ with no behaviour of their own to test, each with the reason. */
const NO_SPEC: Record<string, string> = {
  'vendor.d.ts': 'type declarations for a dependency that ships none',
  'fetch/augment.ts': "a type augmentation (fetch's RequestInit.token), no code",
  'interceptor/augment.ts': "a type augmentation (axios's AxiosRequestConfig.token), no code",
  'index.ts': 're-exports only: the main entry (its surface is checked by the API report and the package tier)',
  'fetch/index.ts': 're-exports only: the axios-m2m/fetch entry',
  'bin.ts': "the bin's process wiring (argv, env, streams, exit code) around cli.ts's main(): run as a child process by spec/integration/cli.spec.ts",
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

const libFiles = filesUnder(join(ROOT, 'lib'))
  .filter((path) => path.endsWith('.ts'))
  .map((path) => relative(join(ROOT, 'lib'), path).split('\\').join('/'))
  .sort();
const specOf = (file: string) => join(ROOT, 'spec', 'unit', file.replace(/(\.d)?\.ts$/, '.spec.ts'));

describe('the unit tier mirrors lib/', () => {
  it('has spec/unit/<path>.spec.ts for every module of lib/', () => {
    const missing = libFiles.filter((file) => !(file in NO_SPEC) && !existsSync(specOf(file)));
    expect(missing, 'lib/ modules without a unit spec at the same path under spec/unit/').to.deep.equal([]);
  });

  it('excuses only files that exist and have no spec', () => {
    const stale = Object.keys(NO_SPEC).filter((file) => !libFiles.includes(file) || existsSync(specOf(file)));
    expect(stale, 'take these off NO_SPEC').to.deep.equal([]);
  });
});
