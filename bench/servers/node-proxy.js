// The Node floor: the least a node:http + undici proxy can spend forwarding a request to
// $UPSTREAM and its answer back, with no MCP logic at all (no parse, no session, no policy):
// the body read whole (MCP requests are small), one undici `stream` whose factory hands the
// answer straight to the response (no async iteration, no copy per chunk). What the gateway
// costs above it is ours; what it costs above nginx is Node's too (bench/gateway.bench.js).
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import { Agent } from 'undici';
import { serveStats, ready } from './ipc.js';

const upstream = new URL(process.env.UPSTREAM);
const origin = upstream.origin;
const dispatcher = new Agent({ keepAliveTimeout: 4_000, connections: 128 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

function forwarded(headers) {
  const out = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  return out;
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    dispatcher.stream(
      {
        origin,
        path: upstream.pathname,
        method: req.method,
        headers: forwarded(req.headers),
        body: chunks.length === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
      },
      ({ statusCode, headers }) => {
        res.writeHead(statusCode, forwarded(headers));
        return res;
      },
      (error) => {
        if (!error) return;
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    );
  });
});
serveStats();
server.listen(0, '127.0.0.1', () => ready(server));
