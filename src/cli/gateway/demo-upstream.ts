/**
 * @module cli/gateway/demo-upstream
 * `--demo-upstream`: the bundled demo MCP server on a loopback port (`--demo-upstream-port`, else
 * a free one), in this process,
 * its sessions in memory (what `npm start` puts behind the gateway).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOCAL_HOSTNAMES } from '../../server/origin.js';
import { createSessionServer } from '../../server/session-server.js';
import { demoApplication } from '../demo/demo-command.js';

export async function startDemoUpstream(
  port: number,
  onError: (error: unknown) => void,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const demo = createSessionServer({ application: demoApplication(), allowedHosts: LOCAL_HOSTNAMES, onError });
  const http = createServer((req, res) => void demo.node(req, res));
  await new Promise<void>((resolve, reject) => {
    http.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === 'EADDRINUSE' ? `--demo-upstream-port ${port} is in use` : error.message)),
    );
    http.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    async stop() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await demo.close();
    },
  };
}
