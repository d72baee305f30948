import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { childEnv, ROOT } from '../../support/run-example.js';

// When a process ends: a refresh in the background never keeps it alive (neither its socket nor a
// timer), while a caller waiting for a token does. Each case runs a small job as a child process
// against an endpoint in this process, and looks at what it printed and how it ended.
//
// The bound (10 s from the job's last line) is no measure of speed: before, the hanging refresh
// held the job for the whole 30 s deadline; now it exits right after its last line.

const EXIT_BOUND = 10_000;
const START_BOUND = 30_000; // to start (tsx compiles the job) and do its work, on a busy machine
const child = (name: string) => fileURLToPath(new URL(`./children/${name}`, import.meta.url));

interface Outcome {
  /** The exit code, or a note that the job had to be killed. */
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs a job; kills it when it is still running 10 s after its last line (or far too long at all). */
function run(script: string, env: Record<string, string>, lastLine: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const job = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    let killedFor = '';
    const kill = (why: string) => {
      killedFor = why;
      job.kill('SIGKILL');
    };
    const tooLong = setTimeout(() => kill(`still running after ${START_BOUND} ms`), START_BOUND);
    let afterLast: NodeJS.Timeout | undefined;
    job.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (afterLast === undefined && stdout.includes(`${lastLine}\n`)) {
        afterLast = setTimeout(() => kill(`still running ${EXIT_BOUND} ms after its last line`), EXIT_BOUND);
      }
    });
    job.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    job.on('close', (code) => {
      clearTimeout(tooLong);
      clearTimeout(afterLast);
      resolve({ code: killedFor || (code ?? -1), stdout, stderr });
    });
  });
}

describe('the process ends when its work is done, not before', function () {
  this.timeout(3 * (START_BOUND + EXIT_BOUND));
  let server: Server;
  let base: string;
  const requests: Record<string, number> = {};
  const pending: ServerResponse[] = [];

  const answer = (res: ServerResponse, token: string, delay = 0) => {
    pending.push(res);
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: token, expires_in: 4, token_type: 'Bearer' }));
    }, delay);
  };

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      const path = req.url ?? '';
      const n = (requests[path] = (requests[path] ?? 0) + 1);
      if (path === '/hang') {
        if (n === 1) answer(res, 'first-token');
        else pending.push(res); // the refresh: never answered
      } else if (path === '/join') {
        answer(res, n === 1 ? 'first-token' : 'refreshed-token', n === 1 ? 0 : 2_000);
      } else if (path === '/slow') {
        answer(res, 'slow-token', 1_500);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('exits after its last line while a refresh ahead hangs on the endpoint', async () => {
    const outcome = await run(child('refresh-ahead.ts'), { TOKEN_ENDPOINT: `${base}/hang`, MODE: 'hang' }, 'last line');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stdout).to.equal('first first-token\nrefresh started true\nlast line\n');
    expect(requests['/hang'], 'the refresh was sent, and hung').to.equal(2);
  });

  it('keeps a caller that joins a background refresh alive until it has the token', async () => {
    const outcome = await run(child('refresh-ahead.ts'), { TOKEN_ENDPOINT: `${base}/join`, MODE: 'join' }, 'last line');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stdout).to.equal('first first-token\nrefresh started true\njoined refreshed-token\nlast line\n');
    expect(requests['/join']).to.equal(2);
  });

  it('keeps a caller waiting on a slow endpoint alive until it has the token', async () => {
    const outcome = await run(child('slow-endpoint.ts'), { TOKEN_ENDPOINT: `${base}/slow` }, 'token slow-token');
    expect(outcome.code, outcome.stderr).to.equal(0);
    expect(outcome.stdout).to.equal('token slow-token\n');
  });
});
