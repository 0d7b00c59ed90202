/**
 * An in-process session server on a real socket (node:http on a free loopback port).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPlainApplication } from './plain-app.js';
import type { McpApplication } from '../../src/server/application.js';
import { createSessionServer, type SessionServer } from '../../src/server/session-server.js';
import type { SessionServerOptions } from '../../src/server/options.js';

export interface RunningServer {
  url: string;
  server: SessionServer;
  http: Server;
  close(): Promise<void>;
}

export function demoApp(): McpApplication {
  return createPlainApplication({ name: 'test-demo', version: '0.0.0' });
}

/** A demo application that supports exactly one revision (so the SDK client must accept it). */
export function demoAppSpeaking(version: string): McpApplication {
  const app = demoApp();
  return {
    ...app,
    async handle(request, context) {
      const reply = await app.handle(request, context);
      if (request.method === 'initialize' && 'result' in reply) reply.result['protocolVersion'] = version;
      return reply;
    },
  };
}

export async function startServer(options: Partial<SessionServerOptions> = {}): Promise<RunningServer> {
  const server = createSessionServer({ application: demoApp(), sweepIntervalMs: 0, ...options });
  const http = createServer((req, res) => void server.node(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    server,
    http,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await server.close();
    },
  };
}
