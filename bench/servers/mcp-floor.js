// The floor of any HTTP binding of an McpServer: node:http reading the body, one McpServer
// (initialized once, shared) answering through the smallest transport, JSON out. No sessions,
// no header checks, no routing. What every per-session binding pays at least, per request.
import { createServer } from 'node:http';
import { echoServer } from './echo-server.js';
import { serveStats, ready } from './ipc.js';

/** The smallest transport: answers go to the request waiting for that id. */
class FloorTransport {
  waiting = new Map();
  async start() {}
  async send(message) {
    const answer = this.waiting.get(message.id);
    this.waiting.delete(message.id);
    answer?.(message);
  }
  async close() {}
}

const transport = new FloorTransport();
await echoServer().connect(transport);
const ask = (message) =>
  new Promise((resolve) => {
    transport.waiting.set(message.id, resolve);
    transport.onmessage(message, {});
  });
await ask({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'b', version: '1' } },
});
transport.onmessage({ jsonrpc: '2.0', method: 'notifications/initialized' }, {});

const server = createServer((req, res) => {
  let text = '';
  req.on('data', (chunk) => (text += chunk));
  req.on('end', async () => {
    const message = JSON.parse(text);
    // The harness's openSession: initialize and initialized get a fixed session id.
    if (message.method === 'initialize' || !('id' in message)) {
      res.writeHead(message.method === 'initialize' ? 200 : 202, { 'content-type': 'application/json', 'mcp-session-id': 'floor' });
      res.end(message.method === 'initialize' ? JSON.stringify({ jsonrpc: '2.0', id: message.id, result: {} }) : undefined);
      return;
    }
    const answer = await ask(message);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
});
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
