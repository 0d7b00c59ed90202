/**
 * @module cli/demo/demo-server
 * The demo MCP server behind `sessiongate demo`, built with the official SDK's `McpServer` and
 * served through `bindMcpServer`: the reference of how to use the binding.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BoundSession } from '../../server/sdk/sdk-binding.js';

const MAX_SLOW_MS = 60_000;
const SLOW_STEPS = 5;

/** One instance per session; `session` is where per-session state would go. */
export function createDemoServer(info: { name: string; version: string }, _session?: BoundSession): McpServer {
  const server = new McpServer(info, { capabilities: { logging: {} } });

  server.registerTool('echo', { description: 'Returns its text argument', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));

  server.registerTool('whoami', { description: 'Returns the id of the process serving the request' }, async () => ({
    content: [{ type: 'text', text: String(process.pid) }],
  }));

  server.registerTool(
    'slow',
    {
      description: 'Waits ms milliseconds, reporting progress when the request has a progress token',
      inputSchema: { ms: z.number().int().min(0).max(MAX_SLOW_MS) },
    },
    async ({ ms }, extra) => {
      const token = extra._meta?.progressToken;
      for (let step = 1; step <= SLOW_STEPS; step++) {
        await new Promise((resolve) => setTimeout(resolve, ms / SLOW_STEPS));
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: step, total: SLOW_STEPS },
          });
        }
      }
      return { content: [{ type: 'text', text: `waited ${ms} ms` }] };
    },
  );
  return server;
}
