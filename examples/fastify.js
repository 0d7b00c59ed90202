// Sessiongate in Fastify. Run: node examples/fastify.js
// Fastify's own JSON parser is replaced by a pass-through, so Sessiongate applies the MCP
// rules (415, -32700, 413) itself; reply.hijack() hands the raw response over.
import Fastify from 'fastify';
import { bindMcpServer, createSessionServer } from 'sessiongate/server';
import { createMcpServer } from './mcp-server.js';
import { checkEndpoint } from './check.js';

const sessions = createSessionServer({ application: bindMcpServer(() => createMcpServer()) });
const fastify = Fastify();
fastify.removeAllContentTypeParsers();
fastify.addContentTypeParser('*', (_request, _payload, done) => done(null));
fastify.all('/mcp', async (request, reply) => {
  reply.hijack();
  await sessions.node(request.raw, reply.raw);
});

await fastify.listen({ port: 0, host: '127.0.0.1' });
await checkEndpoint(`http://127.0.0.1:${fastify.server.address().port}/mcp`);
await fastify.close();
await sessions.close();
