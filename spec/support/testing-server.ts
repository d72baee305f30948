import nock from 'nock';
import { startTexasServer, type TexasServer } from '../../lib/testing/texas-server.js';

/**
 * For a describe block that talks to the package's own testing server over real loopback sockets:
 * nock's interception is lifted for the block (a spec file may use nock elsewhere), the server
 * started before the first test and closed after the last. `use` receives the started server.
 */
export function useTexasServer(use: (server: TexasServer) => void): void {
  let server: TexasServer | undefined;
  before(async () => {
    nock.restore();
    server = await startTexasServer();
    use(server);
  });
  after(async () => {
    await server?.close();
    nock.activate();
  });
}
