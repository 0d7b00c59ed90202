// What the user's McpServer itself costs per session: N echo McpServers, each connected to a
// transport that does nothing and initialized as a session's instance is (the client's
// capabilities and info it keeps are the McpServer's own allocation). Reported beside the
// per-session figures, so the transports' own cost can be compared without it.
import { echoServer } from './echo-server.js';
import { serveStats } from './ipc.js';

const kept = [];
// The same initialize as the harness's openSession (bench/harness.js), which pins itself.
const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
};

/** The smallest transport there is (methods on the prototype): its own cost is not the McpServer's. */
class IdleTransport {
  async start() {}
  async send() {
    this.answered?.();
  }
  async close() {}
}

async function initializedServer() {
  const server = echoServer();
  const transport = new IdleTransport();
  const done = new Promise((resolve) => (transport.answered = resolve));
  await server.connect(transport);
  transport.onmessage(JSON.parse(JSON.stringify(INIT)), {});
  await done;
  transport.answered = undefined;
  transport.onmessage({ jsonrpc: '2.0', method: 'notifications/initialized' }, {});
  return server;
}

serveStats({
  async idle(count) {
    for (let i = 0; i < count; i++) kept.push(await initializedServer());
    return kept.length;
  },
});
process.send({ port: 0 });
