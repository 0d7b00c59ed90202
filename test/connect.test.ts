/**
 * `sessiongate connect URL`, the stdio front door (docs/CONNECT.md), as desktop clients use it:
 * launched as a local command by the official SDK's StdioClientTransport and by the Inspector
 * CLI, in front of a real gateway process with API keys, an admin API and an audit log. The
 * session an operator ends is re-established without the client noticing, under the same
 * correlation id; closing the client ends the remote session; an unreachable gateway is an
 * answer, not a hang; a header naming an unset variable is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { readJsonLines } from './helpers/json-lines.js';
import { inspectorCliStdio } from './helpers/peer-clients.js';

const ADMIN = 'connect-test-admin-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'sg-connect-'));
const keys = join(dir, 'keys.jsonl');
const audit = join(dir, 'audit.jsonl');
let gateway: InProcessGateway;
let key: string;

beforeAll(async () => {
  key = (await runCli(['keys', 'add', 'desktop', '--api-keys', keys])).stdout.trim();
  gateway = await startGateway([
    ...['--port', '0', '--store', 'memory', '--demo-upstream', '--auth', 'api-keys', '--api-keys', keys, '--audit', audit],
    ...['--admin-token', ADMIN],
  ]);
}, 30_000);
afterAll(async () => {
  await gateway?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** The SDK client a desktop app is, launching `sessiongate connect` with the key in its env. */
function desktop(url: string, extra: string[] = []): { client: Client; transport: StdioClientTransport; stderr: () => string } {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'connect', url, '--header', 'Authorization: Bearer ${SG_KEY}', ...extra],
    env: { PATH: process.env['PATH'] ?? '', SG_KEY: key },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { client: new Client({ name: 'desktop-app', version: '9.1' }), transport, stderr: () => stderr };
}

async function admin(path: string, method = 'GET'): Promise<Response> {
  return fetch(gateway.url.replace(/\/mcp$/, path), { method, headers: { authorization: `Bearer ${ADMIN}` } });
}

const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content[0]!.text;

describe('sessiongate connect', () => {
  it('carries a desktop client to the gateway; a session the operator ends is re-established unnoticed, under the same correlation id; closing ends it', async () => {
    const { client, transport, stderr } = desktop(gateway.url, ['--client-session-id', 'desk-42']);
    await client.connect(transport);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'first' } }))).toBe('first');

    const listed = (await (await admin('/admin/sessions')).json()) as { sessions: { id: string; clientSessionId: string }[] };
    expect(listed.sessions).toHaveLength(1);
    const [first] = listed.sessions;
    expect(first!.clientSessionId).toBe('desk-42');
    expect((await admin(`/admin/sessions/${encodeURIComponent(first!.id)}`, 'DELETE')).status).toBe(200);

    // The next call meets 404; connect opens a new session and retries: the client sees its answer.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
    expect(stderr()).toContain('the server forgot the session; a new one was opened');
    const after = (await (await admin('/admin/sessions')).json()) as { sessions: { id: string; clientSessionId: string }[] };
    expect(after.sessions).toHaveLength(1);
    expect(after.sessions[0]!.id).not.toBe(first!.id);
    expect(after.sessions[0]!.clientSessionId).toBe('desk-42');

    // The client closing (stdin ends) ends the remote session with DELETE.
    await client.close();
    await expect
      .poll(async () => ((await (await admin('/admin/sessions')).json()) as { sessions: unknown[] }).sessions.length, { timeout: 10_000 })
      .toBe(0);
    await expect
      .poll(
        () =>
          readJsonLines(audit)
            .filter((line) => line['event'] === 'session.ended')
            .map((line) => line['reason']),
        {
          timeout: 10_000,
        },
      )
      .toEqual(['admin', 'delete']);
  });

  it('the Inspector CLI lists and calls tools through it', async () => {
    const url = gateway.url;
    // The Inspector passes no environment of its own: the key goes in its -e.
    const listed = await inspectorCliStdio(
      process.execPath,
      [BIN, 'connect', url, '--header', 'Authorization: Bearer ${SG_KEY}'],
      ['-e', `SG_KEY=${key}`, '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'text=through the inspector'],
    ).catch((error: Error) => error.message);
    expect(listed).toContain('through the inspector');
  });

  it('an unreachable endpoint is answered with an error naming the cause, never a hang', async () => {
    const { client, transport } = desktop('http://127.0.0.1:9/mcp');
    const failure = await client.connect(transport).then(
      () => 'connected',
      (error: Error) => error.message,
    );
    expect(failure).toContain('connection refused');
    await client.close().catch(() => {});
  });

  it('a header naming a variable that is not set is refused with one line; so is a URL that is not http', async () => {
    const unset = await runCli(['connect', gateway.url, '--header', 'Authorization: Bearer ${SG_NOT_SET_ANYWHERE}']);
    expect(unset.code).not.toBe(0);
    expect(unset.stderr.trim().split('\n')).toHaveLength(1);
    expect(unset.stderr).toContain('the environment variable SG_NOT_SET_ANYWHERE is not set');
    const ftp = await runCli(['connect', 'ftp://example.com/mcp']);
    expect(ftp.code).not.toBe(0);
    expect(ftp.stderr).toContain('must be an http or https URL');
  });
});
