// Sessiongate on plain node:http. Run: node examples/node-http.js
import { createServer } from 'node:http';
import { bindMcpServer, createSessionServer } from 'sessiongate/server';
import { createMcpServer } from './mcp-server.js';
import { checkEndpoint } from './check.js';

const sessions = createSessionServer({ application: bindMcpServer(() => createMcpServer()) });
const http = createServer((req, res) => {
  if (req.url === '/mcp') void sessions.node(req, res);
  else res.writeHead(404).end();
});
http.listen(0, '127.0.0.1', async () => {
  await checkEndpoint(`http://127.0.0.1:${http.address().port}/mcp`);
  http.close();
  await sessions.close();
});
