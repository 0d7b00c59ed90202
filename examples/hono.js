// Sessiongate in Hono, through the web-standard handler. Run: node examples/hono.js
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createSessionServer } from 'sessiongate/server';
import { createDemoApplication } from './demo-app.js';
import { checkEndpoint } from './check.js';

const sessions = createSessionServer({ application: createDemoApplication({ name: 'hono-example', version: '1.0.0' }) });
const app = new Hono();
app.all('/mcp', (c) => sessions.fetch(c.req.raw));

const http = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, async (info) => {
  await checkEndpoint(`http://127.0.0.1:${info.port}/mcp`);
  http.close();
  await sessions.close();
});
