import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './run-example.js';

// The package as npm would publish it, for the package-tier specs that install it the way a user
// does: `npm pack` of a fresh build, and the versions of the packages installed beside it.

export const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * Packs the package into `dir` (building dist/ first when it is missing); returns the tarball's
 * file name. `prepack` (a full build, most of the time `npm pack` takes) runs unless `rebuild` is
 * false: then the tarball holds dist/ as it is, which the package tier, run after `npm run build`,
 * finds fresh.
 */
export function packInto(dir: string, { rebuild = true }: { rebuild?: boolean } = {}): string {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) execFileSync(npm, ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const args = ['pack', '--silent', '--pack-destination', dir, ...(rebuild ? [] : ['--ignore-scripts'])];
  execFileSync(npm, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${dir}`);
  return tarball;
}

/**
 * The version of a package this project has installed: pinned when installing it beside the
 * tarball, so that npm takes it from its cache (`--prefer-offline`) instead of asking the registry
 * what is newest.
 */
export function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}
