// Sessiongate in Express. Run: node examples/express.js
// Mount it without a body parser: Sessiongate reads the body itself, under its own size limit
// and with JSON-RPC errors for bad JSON. (If a parser already ran, pass req.body as the third
// argument and it is used as is.)
import express from 'express';
import { bindMcpServer, createSessionServer } from 'sessiongate/server';
import { createMcpServer } from './mcp-server.js';
import { checkEndpoint } from './check.js';

const sessions = createSessionServer({ application: bindMcpServer(() => createMcpServer()) });
const app = express();
app.all('/mcp', (req, res) => void sessions.node(req, res));

const http = app.listen(0, '127.0.0.1', async () => {
  await checkEndpoint(`http://127.0.0.1:${http.address().port}/mcp`);
  http.close();
  await sessions.close();
});
