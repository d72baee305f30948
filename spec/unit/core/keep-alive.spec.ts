import { expect } from 'chai';
import sinon from 'sinon';
import { waitingCallers } from '../../../lib/core/keep-alive.js';
import { withCache } from '../../../lib/cache/with-cache.js';
import type { AccessToken, GetTokenOptions } from '../../../lib/types.js';

// Which callers hold the process: each one that waits for a fetch (a miss, a forced refresh, one
// that joins a refresh in the background), until it stops waiting; never a refresh in the
// background. (spec/integration/process/exit.spec.ts runs the same with real processes.)

function manualFetch() {
  const calls: { resolve(token: AccessToken): void; reject(error: unknown): void; options: GetTokenOptions }[] = [];
  const fetch = (_scope: string, options: GetTokenOptions) => new Promise<AccessToken>((resolve, reject) => calls.push({ resolve, reject, options }));
  return { calls, fetch };
}
/** Referenced MessagePorts: what keeps the event loop alive for a waiting caller. */
const heldPorts = () => process.getActiveResourcesInfo().filter((type) => type === 'MessagePort').length;
const settle = async () => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

describe('keeping the process alive while callers wait', () => {
  let clock: sinon.SinonFakeTimers;
  // The count is process-wide: a caller another spec file left waiting must not shift these.
  let before = 0;
  beforeEach(() => {
    before = waitingCallers();
    clock = sinon.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => clock.restore());

  it('holds it for every caller waiting on a fetch, and lets go when the fetch answers', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const waits = [source.getToken('s'), source.getToken('s'), source.getToken('other')];
    expect(waitingCallers() - before).to.equal(3);
    await settle();
    calls[0]!.resolve({ token: 't', expiresAt: Date.now() + 3_600_000 });
    await Promise.all(waits.slice(0, 2));
    expect(waitingCallers() - before).to.equal(1);
    calls[1]!.reject(new Error('down'));
    await waits[2]!.catch(() => {});
    expect(waitingCallers() - before).to.equal(0);
  });

  it('holds it with one referenced handle from the first waiting caller on, and lets it go after the last', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const ports = heldPorts();
    // Callers another file left waiting hold the handle already: then ours adds none.
    const added = before === 0 ? 1 : 0;
    const alone = source.getToken('s');
    expect(heldPorts()).to.equal(ports + added);
    const second = source.getToken('s');
    expect(heldPorts()).to.equal(ports + added);
    await settle();
    calls[0]!.resolve({ token: 't', expiresAt: Date.now() + 3_600_000 });
    await Promise.all([alone, second]);
    expect(heldPorts()).to.equal(ports);
  });

  it('lets go of a caller that aborts, while the fetch it left goes on', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const controller = new AbortController();
    const aborted = source.getToken('s', { signal: controller.signal }).catch(() => 'aborted');
    const staying = source.getToken('s');
    expect(waitingCallers() - before).to.equal(2);
    controller.abort();
    expect(await aborted).to.equal('aborted');
    expect(waitingCallers() - before).to.equal(1);
    await settle();
    calls[0]!.resolve({ token: 't', expiresAt: Date.now() + 3_600_000 });
    await staying;
    expect(waitingCallers() - before).to.equal(0);
  });

  it('does not hold it for a refresh in the background, but does for a caller that joins it', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch, { refreshAhead: 60_000, expiryMargin: 0, timeout: 120_000 });
    const first = source.getToken('s');
    await settle();
    calls[0]!.resolve({ token: 'old', expiresAt: Date.now() + 300_000 });
    await first;
    clock.tick(250_000); // 50 s left: a refresh ahead is due
    expect((await source.getToken('s')).token).to.equal('old');
    await settle();
    expect(calls).to.have.length(2); // the refresh is under way...
    expect(waitingCallers() - before).to.equal(0); // ...and holds nothing
    clock.tick(50_001); // the old token expired: the next caller joins the refresh
    const joining = source.getToken('s');
    expect(waitingCallers() - before).to.equal(1);
    await settle();
    expect(calls).to.have.length(2);
    calls[1]!.resolve({ token: 'new', expiresAt: Date.now() + 300_000 });
    expect((await joining).token).to.equal('new');
    expect(waitingCallers() - before).to.equal(0);
  });

  it('holds it for a forced refresh', async () => {
    const { calls, fetch } = manualFetch();
    const source = withCache(fetch);
    const forced = source.getToken('s', { forceRefresh: true });
    expect(waitingCallers() - before).to.equal(1);
    await settle();
    calls[0]!.resolve({ token: 't', expiresAt: Date.now() + 3_600_000 });
    await forced;
    expect(waitingCallers() - before).to.equal(0);
  });
});
