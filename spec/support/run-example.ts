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
 * The environment for a script this suite runs as a child process, with NODE_V8_COVERAGE set to
 * '' (Node passes it on to children even when left out): a child's coverage of lib/ (loaded
 * through tsx) merges badly with this process's, and `npm run coverage` would then report lines
 * as uncovered that the specs here do run.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_V8_COVERAGE: '', ...extra };
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
