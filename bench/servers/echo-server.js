// The McpServer both SDK benchmarks serve: one echo tool.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

export function echoServer() {
  const mcp = new McpServer({ name: 'bench', version: '1' });
  mcp.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  return mcp;
}
