// Sessiongate on plain node:http. Run: node examples/node-http.js
import { createServer } from 'node:http';
import { createSessionServer } from 'sessiongate/server';
import { createDemoApplication } from './demo-app.js';
import { checkEndpoint } from './check.js';

const sessions = createSessionServer({ application: createDemoApplication({ name: 'node-http-example', version: '1.0.0' }) });
const http = createServer((req, res) => {
  if (req.url === '/mcp') void sessions.node(req, res);
  else res.writeHead(404).end();
});
http.listen(0, '127.0.0.1', async () => {
  await checkEndpoint(`http://127.0.0.1:${http.address().port}/mcp`);
  http.close();
  await sessions.close();
});
