import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ExampleRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `examples/<file>` as a user would: `node --import tsx`, inputs from the environment only.
 * The examples import 'axios-m2m', which resolves to the built package, so dist/ is built first
 * when missing.
 */
export function runExample(file: string, env: Record<string, string>): Promise<ExampleRun> {
  if (!existsSync(`${ROOT}dist/index.js`)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', `examples/${file}`],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}
