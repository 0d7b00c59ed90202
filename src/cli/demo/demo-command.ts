/**
 * @module cli/demo/demo-command
 * `sessiongate demo`: the demo MCP server behind the session server.
 */
import { Command } from 'commander';
import { bindMcpServer } from '../../server/sdk/sdk-binding.js';
import { addSessionFlags, sessionFlags } from '../session-flags.js';
import { report, runSessionServer } from '../run-server.js';
import { VERSION } from '../version.js';
import { createDemoServer } from './demo-server.js';

/** The demo as an application: the official SDK McpServer, one per session. */
export function demoApplication(): ReturnType<typeof bindMcpServer> {
  return bindMcpServer((session) => createDemoServer({ name: 'sessiongate-demo', version: VERSION }, session), { onError: report });
}

export function demoCommand(): Command {
  const command = new Command('demo').description('serve a demo MCP server (tools echo, whoami, slow) behind Sessiongate sessions');
  addSessionFlags(command, { store: 'memory' });
  return command.action(async (values: Record<string, unknown>) => {
    await runSessionServer('sessiongate demo', demoApplication(), sessionFlags(values));
  });
}
