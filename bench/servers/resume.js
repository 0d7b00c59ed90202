// Sessiongate's session server answering tools/call with an SSE stream (a progress
// notification, then the response) or, with JSON=1, a JSON response; resumption on or off
// (RESUME=off), on the store STORE names (memory, sqlite:PATH, or a redis:// URL).
import { createServer } from 'node:http';
import { serveStats, ready } from './ipc.js';
const { createSessionServer } = await import('../../dist/server/index.js');

async function openStore(spec) {
  if (!spec || spec === 'memory') return undefined;
  if (spec.startsWith('sqlite:')) return new (await import('../../dist/store/sqlite/index.js')).SqliteStore(spec.slice(7));
  return new (await import('../../dist/store/redis/index.js')).RedisStore({ url: spec });
}

const json = process.env.JSON === '1';
async function* streamed(request) {
  yield { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1, total: 1 } };
  yield { jsonrpc: '2.0', id: request.id, result: { content: [{ type: 'text', text: request.params?.arguments?.text ?? '' }] } };
}
const application = {
  async handle(request) {
    if (request.method === 'initialize') {
      const result = {
        protocolVersion: request.params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: 'bench', version: '1' },
      };
      return { jsonrpc: '2.0', id: request.id, result };
    }
    if (json)
      return { jsonrpc: '2.0', id: request.id, result: { content: [{ type: 'text', text: request.params?.arguments?.text ?? '' }] } };
    return streamed(request);
  },
  receive() {},
};
const store = await openStore(process.env.STORE);
const sessions = createSessionServer({ application, store, resume: process.env.RESUME === 'off' ? false : undefined });
const server = createServer((req, res) => void sessions.node(req, res));
serveStats({});
server.listen(0, '127.0.0.1', () => ready(server));
