// Sessiongate in Hono, through the web-standard handler. Run: node examples/hono.js
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bindMcpServer, createSessionServer } from 'sessiongate/server';
import { createMcpServer } from './mcp-server.js';
import { checkEndpoint } from './check.js';

const sessions = createSessionServer({ application: bindMcpServer(() => createMcpServer()) });
const app = new Hono();
app.all('/mcp', (c) => sessions.fetch(c.req.raw));

const http = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, async (info) => {
  await checkEndpoint(`http://127.0.0.1:${info.port}/mcp`);
  http.close();
  await sessions.close();
});
