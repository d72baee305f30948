import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { childEnv, ROOT } from './support/run-example.js';

// The bench script still runs and prints its five tables (with tiny counts). Speed itself is not
// asserted anywhere in the tests: that is what `npm run bench` is for.
describe('npm run bench (BENCH_QUICK)', function () {
  this.timeout(120_000);

  it('prints the machine and all five tables, and exits 0', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/index.ts'], { cwd: ROOT, env: childEnv({ BENCH_QUICK: '1' }), timeout: 100_000 }, (error, out) =>
        resolve({ code: error ? -1 : 0, stdout: out }),
      );
    });
    expect(code).to.equal(0);
    expect(stdout).to.match(/cores, Node v\d+/);
    for (const heading of ['### 1. Cache-hit cost', '### 2. Per-request overhead', '### 3. Cold-start herd', '### 4. 401 storm', '### 5. Memory']) {
      expect(stdout).to.include(heading);
    }
    expect(stdout).to.match(/\| axios-m2m \| 10 \|/); // the herd: one request per scope
    expect(stdout).to.match(/\| @azure\/msal-node 7\.2\.3 \| \d+ \|/); // msal-node reached the loopback token endpoint
  });
});
