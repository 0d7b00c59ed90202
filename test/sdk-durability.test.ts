/**
 * The official SDK client against `sessiongate demo` (an SDK McpServer through the binding) as
 * real processes: a kill -9 on SQLite and a move between replicas on a real Redis are invisible
 * to the client's tool calls.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { startDemo, type DemoProcess } from './helpers/demo-process.js';
import { freePort, startRedis } from './helpers/redis.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const running: DemoProcess[] = [];
afterEach(async () => {
  for (const demo of running.splice(0)) await demo.kill('SIGKILL');
});

async function demo(args: string[]): Promise<DemoProcess> {
  const started = await startDemo(args);
  running.push(started);
  return started;
}

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

it('SIGKILL mid-session on SQLite, restart: the same SDK client goes on calling tools', async () => {
  const port = String(await freePort());
  const store = `sqlite:${join(dir, 'restart.db')}`;
  const first = await demo(['--port', port, '--store', store]);
  const transport = new StreamableHTTPClientTransport(new URL(first.url));
  const client = new Client({ name: 'durable', version: '1.0.0' });
  await client.connect(transport);
  const id = transport.sessionId;
  const before = text(await client.callTool({ name: 'whoami' }));

  expect(await first.kill('SIGKILL')).toBeNull();
  await demo(['--port', port, '--store', store]);

  const after = text(await client.callTool({ name: 'whoami' }));
  expect(after).not.toBe(before); // another process answered
  expect(text(await client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here');
  const progress: number[] = [];
  await client.callTool({ name: 'slow', arguments: { ms: 25 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
  expect(progress).toEqual([1, 2, 3, 4, 5]);
  expect(transport.sessionId).toBe(id);
  await transport.terminateSession();
  await client.close();
});

it('a session created on replica A is served by replica B on a real Redis', async () => {
  const redis = await startRedis();
  try {
    const a = await demo(['--store', redis.url]);
    const b = await demo(['--store', redis.url]);
    const onA = new StreamableHTTPClientTransport(new URL(a.url));
    const clientA = new Client({ name: 'replicas', version: '1.0.0' });
    await clientA.connect(onA);
    const pidA = text(await clientA.callTool({ name: 'whoami' }));

    // The same session through B: the SDK client takes an existing id and skips initialize.
    const onB = new StreamableHTTPClientTransport(new URL(b.url), { sessionId: onA.sessionId! });
    const clientB = new Client({ name: 'replicas', version: '1.0.0' });
    await clientB.connect(onB);
    onB.setProtocolVersion(onA.protocolVersion!);
    const pidB = text(await clientB.callTool({ name: 'whoami' }));
    expect(pidB).not.toBe(pidA);
    expect(text(await clientB.callTool({ name: 'echo', arguments: { text: 'via B' } }))).toBe('via B');

    // Ended through B, it is gone on A too.
    await onB.terminateSession();
    // A learns of the end by the store's bus, which on a loaded machine can come after A's next
    // answer from its record cache (docs/ARCHITECTURE.md, "Replicas"): wait for it, bounded.
    await expect
      .poll(
        () =>
          clientA.callTool({ name: 'whoami' }).then(
            () => 'still served',
            (error: { code?: number }) => error.code,
          ),
        { timeout: 5000 },
      )
      .toBe(404);
    await clientA.close();
    await clientB.close();
  } finally {
    await redis.stop();
  }
});
