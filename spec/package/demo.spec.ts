import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { childEnv, ROOT } from '../support/run-example.js';

describe('npm run demo', function () {
  this.timeout(60_000);

  it('shows caching, the 401 refresh with skip_cache, and a shared fetch, then exits 0 by itself', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'demo/index.ts'], { cwd: ROOT, env: childEnv(), timeout: 30_000 }, (error, out) =>
        resolve({ code: error ? -1 : 0, stdout: out }),
      );
    });
    expect(code).to.equal(0);
    expect(stdout).to.include('1. First request: 200, after fetching a token from Texas (token requests: 1)');
    expect(stdout).to.include('2. 100 more requests: all 200, the cached token reused (token requests: 1)');
    expect(stdout).to.include('the request got 401; the package refreshed once (skip_cache: true) and the retry answered 200');
    expect(stdout).to.include('4. 50 concurrent requests on a new scope: 50 answered 200, sharing 1 token request');
    expect(stdout).to.include('In all: 153 requests reached the API, and Texas got 3 token requests.');
  });
});
