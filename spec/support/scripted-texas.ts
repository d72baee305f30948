import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asyncListener } from './async-listener.js';

/** One answer: status, body (JSON-encoded unless a string), headers; or 'hang' to never answer. */
export type Answer = { status: number; body: unknown; headers?: Record<string, string> } | 'hang';

/**
 * An introspection endpoint on loopback whose answers the spec scripts: `answer(body)` decides each
 * one from the parsed request body. It records every request body and can hold answers back until
 * the spec releases them, to make concurrency observable without timers.
 */
export async function startScriptedTexas(answer: (body: Record<string, unknown>) => Answer) {
  const bodies: Record<string, unknown>[] = [];
  const hanging = new Set<ServerResponse>();
  let gate: Promise<void> | undefined;
  let script = answer;
  const server = createServer(
    asyncListener(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
      bodies.push(body);
      if (gate) await gate;
      const reply = script(body);
      if (reply === 'hang') return void hanging.add(res);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/introspect`;
  return {
    endpoint,
    bodies,
    /** Requests received so far. */
    get count() {
      return bodies.length;
    },
    script(next: (body: Record<string, unknown>) => Answer) {
      script = next;
    },
    /** Holds every answer until the returned function is called. */
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type ScriptedTexas = Awaited<ReturnType<typeof startScriptedTexas>>;
