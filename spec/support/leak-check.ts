/**
 * Mocha root hook plugin: fails a spec file that leaves a handle open.
 *
 * The package promises never to keep a process alive, so the suite runs without mocha's `exit`
 * option and every file must give back what it opened: servers, sockets, child processes and
 * referenced timers. After the last hook of each file, the resources Node reports as keeping the
 * event loop alive (`process.getActiveResourcesInfo()`, which leaves out unref'd handles and
 * timers) are compared with those open before the file started. Mocha's own resources (stdout,
 * its test timeout timers) are open on both sides and cancel out.
 *
 * Closing is asynchronous (`server.close()` finishes on a later tick), so the check lets the event
 * loop turn a few times before it judges; a handle that is still open after that is a leak.
 */
import type { Context, RootHookObject, Suite } from 'mocha';

type Counts = Map<string, number>;

/** Resource types that come and go with the check's own waiting, never a file's leak. */
const OWN = new Set(['Immediate', 'CloseReq', 'FSReqCallback', 'FSReqPromise', 'GetAddrInfoReqWrap']);

function snapshot(): Counts {
  const counts: Counts = new Map();
  for (const type of process.getActiveResourcesInfo()) {
    if (OWN.has(type)) continue;
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

function extra(before: Counts, after: Counts): string[] {
  const leaked: string[] = [];
  for (const [type, count] of after) {
    const more = count - (before.get(type) ?? 0);
    if (more > 0) leaked.push(more === 1 ? type : `${type} x${more}`);
  }
  return leaked.sort();
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const pause = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** Lets pending closes finish; returns what is still open beyond `before`. */
async function settle(before: Counts): Promise<string[]> {
  let leaked = extra(before, snapshot());
  // Mostly a few turns suffice; sockets half-closed by a peer can take a little longer.
  for (let round = 0; leaked.length > 0 && round < 40; round++) {
    await (round < 10 ? turn() : pause(25));
    leaked = extra(before, snapshot());
  }
  return leaked;
}

function relative(file: string): string {
  const cwd = process.cwd() + '/';
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}

/** Attaches a before/after pair around each spec file's top-level suites. */
function instrument(root: Suite): void {
  const byFile = new Map<string, Suite[]>();
  for (const suite of root.suites) {
    if (!suite.file) continue;
    const list = byFile.get(suite.file) ?? [];
    list.push(suite);
    byFile.set(suite.file, list);
  }
  for (const [file, suites] of byFile) {
    const first = suites[0]!;
    const last = suites[suites.length - 1]!;
    let before: Counts = new Map();
    // Runs ahead of the file's own hooks, so servers started in them count as the file's.
    first.beforeAll('leak check: resources before ' + relative(file), function () {
      before = snapshot();
    });
    const hooks = (first as unknown as { _beforeAll: unknown[] })._beforeAll;
    hooks.unshift(hooks.pop());
    // Runs after the file's own `after` hooks.
    last.afterAll('leak check: resources after ' + relative(file), async function (this: Context) {
      this.timeout(10_000);
      const leaked = await settle(before);
      if (leaked.length === 0) return;
      const message = `${relative(file)} left open: ${leaked.join(', ')}`;
      // Report-only until every tier is leak-free; LEAK_CHECK=fail makes a leak fail its file.
      if (process.env.LEAK_CHECK === 'fail') throw new Error(message);
      process.stderr.write(`leak check: ${message}\n`);
    });
  }
}

let instrumented = false;

export const mochaHooks: RootHookObject = {
  beforeAll(this: Context) {
    if (instrumented || process.env.LEAK_CHECK === 'off') return;
    instrumented = true;
    let root = this.test?.parent;
    while (root?.parent) root = root.parent;
    if (root) instrument(root);
  },
};
