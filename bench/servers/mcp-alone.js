// What the user's McpServer itself costs per session: N echo McpServers, each connected to a
// transport that does nothing. Reported beside the per-session figures, so the transports'
// own cost can be compared without it.
import { echoServer } from './echo-server.js';
import { serveStats } from './ipc.js';

const kept = [];
const idleTransport = () => ({ async start() {}, async send() {}, async close() {} });
serveStats({
  async idle(count) {
    for (let i = 0; i < count; i++) {
      const server = echoServer();
      await server.connect(idleTransport());
      kept.push(server);
    }
    return kept.length;
  },
});
process.send({ port: 0 });
