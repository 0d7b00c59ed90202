// The floor: node:http reading the body and answering the same bytes as a tools/call.
import { createServer } from 'node:http';
import { serveStats, ready } from './ipc.js';

const ANSWER = JSON.stringify({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'hello' }] } });
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(ANSWER);
  });
});
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
