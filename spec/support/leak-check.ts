/**
 * Mocha root hook plugin: fails a spec file that leaves a handle open.
 *
 * The package promises never to keep a process alive, so the suite runs without mocha's `exit`
 * option and every file must give back what it opened: servers, sockets, child processes and
 * referenced timers. After the last hook of each file, the resources Node reports as keeping the
 * event loop alive (`process.getActiveResourcesInfo()`, which leaves out unref'd handles and
 * timers) are compared with those open before the file started. Mocha's own resources (stdout)
 * are open on both sides and cancel out; the check's own timers are discounted by identity.
 *
 * A leak fails the file. LEAK_CHECK=report only writes it to stderr; LEAK_CHECK=off turns the
 * check off.
 *
 * Closing is asynchronous (`server.close()` finishes on a later tick), so the check lets the event
 * loop turn a few times before it judges; a handle that is still open after that is a leak.
 */
import type { Context, RootHookObject, Suite } from 'mocha';

type Counts = Map<string, number>;

/** Resource types that come and go with the check's own waiting, never a file's leak. */
const OWN = new Set(['Immediate', 'CloseReq', 'FSReqCallback', 'FSReqPromise', 'GetAddrInfoReqWrap']);

/**
 * What keeps the event loop alive, by type. `own` are the check's own timers (its hook's mocha
 * timeout, its pause): they are open only on the "after" side, so counted they would pass for a
 * Timeout the file left behind.
 */
function snapshot(own: readonly (NodeJS.Timeout | undefined)[] = []): Counts {
  const counts: Counts = new Map();
  for (const type of process.getActiveResourcesInfo()) {
    if (OWN.has(type)) continue;
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  const mine = own.filter((timer) => timer?.hasRef()).length;
  if (mine > 0) {
    const left = (counts.get('Timeout') ?? 0) - mine;
    if (left > 0) counts.set('Timeout', left);
    else counts.delete('Timeout');
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

/**
 * Lets pending closes finish; returns what is still open beyond `before`. `hook` is the check's
 * own runnable: mocha arms its timeout timer once the hook's promise exists, after the first look.
 */
async function settle(before: Counts, hook: { timer?: NodeJS.Timeout }): Promise<string[]> {
  let pause: NodeJS.Timeout | undefined;
  const look = () => extra(before, snapshot([hook.timer, pause]));
  let leaked = look();
  // Mostly a few turns suffice; sockets half-closed by a peer can take a little longer.
  for (let round = 0; leaked.length > 0 && round < 40; round++) {
    if (round < 10) await turn();
    else {
      await new Promise<void>((resolve) => (pause = setTimeout(resolve, 25)));
      pause = undefined; // fired: no longer open, so nothing to discount
    }
    leaked = look();
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
      const leaked = await settle(before, this.runnable());
      if (leaked.length === 0) return;
      const message = `${relative(file)} left open: ${leaked.join(', ')}`;
      // LEAK_CHECK=report only reports (to list every leak in one run while hunting them).
      if (process.env.LEAK_CHECK !== 'report') throw new Error(message);
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
