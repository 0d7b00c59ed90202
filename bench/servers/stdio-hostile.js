// The stdio MCP server of bench/attack.bench.js: an official SDK McpServer whose tools misbehave
// on request: `hang` never answers, `big` answers with a message of `size` characters.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'bench-hostile', version: '1.0.0' });
server.registerTool('hang', {}, () => new Promise(() => {}));
server.registerTool('big', { inputSchema: { size: z.number() } }, async ({ size }) => ({
  content: [{ type: 'text', text: 'b'.repeat(size) }],
}));
await server.connect(new StdioServerTransport());
