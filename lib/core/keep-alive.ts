import { MessageChannel, type MessagePort } from 'node:worker_threads';

// The token client's sockets and timers never keep the process alive (http/token-client.ts): a
// refresh ahead in the background must not hold a job that has finished its work for up to the
// whole deadline. A caller that waits for a token is different: its work is not done, so while
// at least one caller waits, one referenced handle holds the process.
//
// The handle is a MessagePort, not a timer: specs that fake timers (sinon) must not be able to
// swap it out from under a waiting caller.

let port: MessagePort | undefined;
let waiting = 0;

function hold(): void {
  if (waiting++ > 0) return;
  if (port === undefined) {
    port = new MessageChannel().port1;
    port.on('message', () => {}); // a port with a listener is what keeps the event loop running
  }
  port.ref();
}

function release(): void {
  if (--waiting === 0) port?.unref();
}

/**
 * `promise`, with the process kept alive until it settles: for a caller that waits for a token.
 * Counted, so that one referenced handle serves every waiting caller.
 */
export function keepAliveUntilSettled<T>(promise: Promise<T>): Promise<T> {
  hold();
  promise.then(release, release);
  return promise;
}

/** Callers waiting right now (for specs). */
export function waitingCallers(): number {
  return waiting;
}
