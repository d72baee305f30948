import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { childEnv, ROOT } from '../support/run-example.js';

// The bench script still runs and prints all its tables (with tiny counts). Speed itself is not
// asserted anywhere in the tests: that is what `npm run bench` is for.
describe('npm run bench (BENCH_QUICK)', function () {
  this.timeout(240_000);

  it('prints the machine and every table, its own five and each section of bench/sections/, and exits 0', async () => {
    const sectionsDir = join(ROOT, 'bench', 'sections');
    const files = existsSync(sectionsDir)
      ? readdirSync(sectionsDir)
          .filter((f) => f.endsWith('.ts'))
          .sort()
      : [];
    const sectionHeadings: string[] = [];
    for (const file of files) {
      const section = (await import(join(sectionsDir, file))) as { heading?: unknown };
      expect(section.heading, `${file} exports its heading`).to.be.a('string');
      sectionHeadings.push(`### ${section.heading as string}`);
    }
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/index.ts'],
        { cwd: ROOT, env: childEnv({ BENCH_QUICK: '1' }), timeout: 220_000, maxBuffer: 16 * 1024 * 1024 },
        (error, out, err) => resolve({ code: error ? -1 : 0, stdout: out, stderr: err }),
      );
    });
    expect(code, stderr.slice(-2000)).to.equal(0);
    expect(stdout).to.match(/cores, Node v\d+/);
    const headings = ['### 1. Cache-hit cost', '### 2. Per-request overhead', '### 3. Cold-start herd', '### 4. 401 storm', '### 5. Memory', ...sectionHeadings];
    for (const heading of headings) expect(stdout).to.include(heading);
    expect(stdout).to.match(/\| axios-m2m \| 10 \|/); // the herd: one request per scope
    expect(stdout).to.match(/\| @azure\/msal-node 7\.2\.3 \| \d+ \|/); // msal-node reached the loopback token endpoint
  });
});
