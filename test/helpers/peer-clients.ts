/**
 * MCP clients nobody here wrote, run as real processes: the MCP Inspector CLI (one command per
 * run, as a user types it) and `mcp-remote` (the stdio-to-HTTP proxy desktop clients launch),
 * driven over stdio by the official SDK client.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const require = createRequire(import.meta.url);
const INSPECTOR_CLI = require.resolve('@modelcontextprotocol/inspector-cli/build/cli.js');
const MCP_REMOTE = require.resolve('mcp-remote/dist/proxy.js');

/**
 * One `mcp-inspector-cli --cli URL --transport http ARGS` run; its stdout. Its 1.0.3 looks for
 * `../package.json` from the working directory (and imports it from its own folder), so it runs
 * from a folder whose parent holds one: its own build folder.
 */
export function inspectorCli(url: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [INSPECTOR_CLI, '--cli', url, '--transport', 'http', ...args],
      { cwd: dirname(INSPECTOR_CLI), timeout: 60_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`inspector cli failed: ${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

/** One `mcp-inspector-cli --cli COMMAND ARGS... INSPECTOR_ARGS` run against a stdio server; its stdout. */
export function inspectorCliStdio(command: string, args: string[], inspectorArgs: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [INSPECTOR_CLI, '--cli', command, ...args, ...inspectorArgs],
      { cwd: dirname(INSPECTOR_CLI), timeout: 60_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`inspector cli failed: ${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

/** An SDK client speaking stdio to `mcp-remote URL --transport http-only` (its state in a fresh folder). */
export async function viaMcpRemote(url: string): Promise<Client> {
  const client = new Client({ name: 'through-mcp-remote', version: '1' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_REMOTE, url, '--transport', 'http-only'],
    env: { PATH: process.env['PATH'] ?? '', MCP_REMOTE_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'sg-mcp-remote-')) },
    stderr: 'ignore',
  });
  await client.connect(transport);
  return client;
}
