/**
 * The official SDK client (its own StreamableHTTPClientTransport) against the session server,
 * over real sockets, for each handshake-era revision.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDSHAKE_REVISIONS } from '../src/protocol/revisions.js';
import { demoAppSpeaking, startServer, type RunningServer } from './helpers/test-server.js';

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe.each(HANDSHAKE_REVISIONS)('official SDK client on %s', (version) => {
  it('connects, lists and calls tools, receives progress, and terminates with DELETE', async () => {
    running = await startServer({ application: demoAppSpeaking(version) });
    const transport = new StreamableHTTPClientTransport(new URL(running.url));
    const client = new Client({ name: 'sdk-peer', version: '1.0.0' });
    await client.connect(transport);
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(transport.protocolVersion).toBe(version);

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['echo', 'whoami', 'slow']);
    expect(await client.callTool({ name: 'echo', arguments: { text: 'hello' } })).toEqual({ content: [{ type: 'text', text: 'hello' }] });

    const progress: number[] = [];
    const slow = await client.callTool({ name: 'slow', arguments: { ms: 40 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(slow).toEqual({ content: [{ type: 'text', text: 'waited 40 ms' }] });
    expect(progress).toEqual([1, 2, 3, 4, 5]);

    const id = transport.sessionId!;
    expect(await running.server.sessions.peek(id)).toMatchObject({ protocolVersion: version });
    await transport.terminateSession();
    expect(await running.server.sessions.peek(id)).toBeUndefined();
    await client.close();
  });
});

it('the SDK client sees 404 for a session the server ended', async () => {
  running = await startServer();
  const transport = new StreamableHTTPClientTransport(new URL(running.url));
  const client = new Client({ name: 'sdk-peer', version: '1.0.0' });
  await client.connect(transport);
  await running.server.sessions.end(transport.sessionId!, 'admin');
  await expect(client.listTools()).rejects.toMatchObject({ code: 404 });
  await client.close();
});
