// The MCP server the examples serve: an official SDK McpServer, one instance per session.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

export function createMcpServer() {
  const server = new McpServer({ name: 'sessiongate-example', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns its text argument', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
}
