// Sessiongate's session server (memory store) with a trivial application that echoes; with
// $TOOLS, tools/list answers that many tools (bench/federation.bench.js).
import { createServer } from 'node:http';
// BASELINE_DIST runs another build (bench/baseline.bench.js: this commit against an earlier one).
const { createSessionServer } = await import(
  process.env.BASELINE_DIST ? `${process.env.BASELINE_DIST}/server/index.js` : '../../dist/server/index.js'
);
import { serveStats, ready } from './ipc.js';

const TOOLS = Array.from({ length: Number(process.env.TOOLS ?? 1) }, (_, i) => ({
  name: i === 0 ? 'echo' : `tool_${i}`,
  // "hello" in the first: a tools/list answer passes the harness's probe (bench/curation.bench.js).
  description: i === 0 ? 'Says hello back.' : `Tool number ${i} of a benchmark server, with a description of ordinary length.`,
  inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
}));
const application = {
  async handle(request) {
    if (request.method === 'initialize') {
      return {
        jsonrpc: '2.0',
        id: request.id,
        result: {
          protocolVersion: request.params.protocolVersion,
          capabilities: { tools: {} },
          serverInfo: { name: 'bench', version: '1' },
        },
      };
    }
    if (request.method === 'tools/list') return { jsonrpc: '2.0', id: request.id, result: { tools: TOOLS } };
    return { jsonrpc: '2.0', id: request.id, result: { content: [{ type: 'text', text: request.params?.arguments?.text ?? '' }] } };
  },
  receive() {},
};
const sessions = createSessionServer({ application });
const server = createServer((req, res) => void sessions.node(req, res));
serveStats({
  // In-process creation of idle sessions through the full initialize path (for the memory table).
  async idle(count) {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'b', version: '1' } },
    });
    const bytes = new TextEncoder().encode(body);
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const signal = new AbortController().signal;
    for (let i = 0; i < count; i++) {
      await sessions.handle({
        method: 'POST',
        header: (name) => headers[name],
        headers: () => headers,
        readBody: async (limit) => (limit.add(bytes), limit.bytes()),
        signal,
      });
    }
    return sessions.sessions.count();
  },
});
server.listen(0, '127.0.0.1', () => ready(server));
