import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { childEnv, ROOT } from '../../support/run-example.js';

// An ESM app with a CommonJS dependency loads both builds of the package into one process. The
// user-token context, the attached-instance guard and the retry marker are one per process, so
// whichever copy sets them, the other sees them. The child loads dist/index.js and dist/index.cjs
// and prints what it found as one JSON line.

const CHILD = fileURLToPath(new URL('./children/dual-package.mjs', import.meta.url));

interface Findings {
  copies: boolean;
  exchange: { status: number; body: unknown; exchanges: string[] };
  reverse: string;
  secondAttach: string;
  retry: { status: number; hits: number; forced: number };
}

describe('the ESM and the CommonJS build in one process', function () {
  this.timeout(60_000);
  let findings: Findings;

  before(async () => {
    if (!existsSync(`${ROOT}/dist/index.cjs`) || !existsSync(`${ROOT}/dist/index.js`)) {
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
    }
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [CHILD], { cwd: ROOT, env: childEnv(), timeout: 30_000 }, (error, out, err) =>
        error ? reject(new Error(`the child failed: ${err || error.message}`)) : resolve(out),
      );
    });
    findings = JSON.parse(stdout.trim().split('\n').at(-1)!) as Findings;
  });

  it('really loads two copies', () => {
    expect(findings.copies).to.equal(true);
  });

  it('exchanges the token of a request that requireToken() from one copy let through, with onBehalfOf() from the other', () => {
    expect(findings.exchange).to.deep.equal({
      status: 200,
      body: { token: 'obo-for-user-token-a' },
      exchanges: ['user-token-a', 'user-token-b'],
    });
  });

  it('sees a withUserToken() context of the ESM copy in the CommonJS copy', () => {
    expect(findings.reverse).to.equal('obo-for-user-token-b');
  });

  it('refuses a second attachToken() on one instance from the other copy', () => {
    expect(findings.secondAttach).to.equal('TypeError: already attached');
  });

  it('retries a refused request once, with one forced refresh, when both copies handle the instance', () => {
    expect(findings.retry).to.deep.equal({ status: 401, hits: 2, forced: 1 });
  });
});
