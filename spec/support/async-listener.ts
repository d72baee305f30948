import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/**
 * A request listener for a stub server whose handler is async. Node ignores the promise a
 * listener returns, so a stub that throws would leave its client waiting for a response and the
 * error unseen: here the response is cut off (the client fails at once) and the error is thrown
 * again outside the promise, where mocha reports it as the failure of the running test.
 */
export function asyncListener(handle: (req: IncomingMessage, res: ServerResponse) => Promise<unknown>): RequestListener {
  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.destroy();
      process.nextTick(() => {
        throw error;
      });
    });
  };
}
