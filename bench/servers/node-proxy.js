// The Node floor: a minimal node:http + undici proxy that forwards bytes to $UPSTREAM and back,
// with no MCP logic at all (no parse, no session, no policy). What the gateway costs above it
// is ours; what it costs above nginx is Node's too (bench/gateway.bench.js).
import { createServer } from 'node:http';
import { Agent, request } from 'undici';
import { serveStats, ready } from './ipc.js';

const upstream = new URL(process.env.UPSTREAM);
const dispatcher = new Agent({ keepAliveTimeout: 4_000, connections: 128 });
const server = createServer(async (req, res) => {
  const headers = { ...req.headers };
  delete headers.host;
  delete headers.connection;
  try {
    const answer = await request(upstream, { method: req.method, headers, body: req.method === 'POST' ? req : undefined, dispatcher });
    const out = { ...answer.headers };
    delete out.connection;
    delete out['keep-alive'];
    delete out['transfer-encoding'];
    res.writeHead(answer.statusCode, out);
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
});
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
