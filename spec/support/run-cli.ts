import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI (the package's bin), which these specs run as a user would. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Builds dist/ when it is missing: `npm test` builds first, a lone `npx mocha <file>` may not have. */
export function ensureBuiltCli(): void {
  if (existsSync(CLI)) return;
  try {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    throw new Error(`dist/cli.js is missing and \`npm run build\` failed: ${(error as Error).message}`, { cause: error });
  }
}

/** Runs `axios-m2m <args>` with only the variables given: the developer's own AZURE_ and NAIS_ variables must not leak in. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
