/**
 * The official SDK McpServer behind sessiongate (bindMcpServer), with the official SDK client
 * and its own StreamableHTTPClientTransport as the peer, over real sockets.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HANDSHAKE_REVISIONS } from '../src/protocol/revisions.js';
import { bindMcpServer } from '../src/server/sdk/sdk-binding.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { ManualClock } from './helpers/clock.js';
import { PinnedTransport, fixtureServer, type Tally } from './helpers/sdk-fixtures.js';
import { ID_REUSE_REFUSED, openSession, reuseIdInFlight, send, toolCall } from './helpers/mcp-http.js';
import { startServer, type RunningServer } from './helpers/test-server.js';
import { pausedCallStream, untilStalled } from './helpers/paused-stream.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-binding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

async function serve(tally: Tally, options: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const server = await startServer({ application: bindMcpServer((session) => fixtureServer(session, tally)), ...options });
  running.push(server);
  return server;
}

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

async function sdkClient(url: string, version: string): Promise<{ client: Client; transport: PinnedTransport }> {
  const transport = new PinnedTransport(new URL(url), version);
  const client = new Client({ name: 'sdk-peer', version: '1.0.0' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    role: 'assistant',
    model: 'test',
    content: { type: 'text', text: 'yes' },
  }));
  await client.connect(transport);
  return { client, transport };
}

describe.each(HANDSHAKE_REVISIONS)('official SDK McpServer and client on %s', (version) => {
  it('tools, progress, a server-to-client request, list_changed on the GET stream, DELETE', async () => {
    const tally: Tally = { created: 0, closed: 0 };
    const { url, server } = await serve(tally);
    const { client, transport } = await sdkClient(url, version);
    expect(transport.protocolVersion).toBe(version);
    expect(client.getServerVersion()?.name).toBe('fixture');

    const listChanged = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('ask');
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');

    const progress: number[] = [];
    expect(text(await client.callTool({ name: 'progress' }, undefined, { onprogress: (p) => progress.push(p.progress) }))).toBe('done');
    expect(progress).toEqual([1, 2, 3]);

    expect(text(await client.callTool({ name: 'ask' }))).toBe('client said yes');

    // Give the client's GET stream a moment to be open before the unsolicited notification.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.callTool({ name: 'grow' });
    await listChanged;

    const id = transport.sessionId!;
    await transport.terminateSession();
    expect(await server.sessions.peek(id)).toBeUndefined();
    expect(tally).toEqual({ created: 1, closed: 1 });
    await client.close();
  });
});

describe('requests that end before their answer', () => {
  it("past --request-timeout the SDK server's handler is cancelled, and the id is free again at once", async () => {
    const tally: Tally = { created: 0, closed: 0, cancelled: [] };
    const { url } = await serve(tally, { requestTimeoutMs: 500 });
    const headers = { 'mcp-session-id': await openSession(url), 'mcp-protocol-version': '2025-11-25' };
    const timedOut = await send(url, { body: toolCall('wait', {}, 7), headers });
    expect(timedOut.json).toMatchObject({ id: 7, error: { code: -32001, data: { code: 'SG_REQUEST_TIMEOUT' } } });
    await expect.poll(() => tally.cancelled).toEqual([expect.stringContaining('timeout')]);
    // Before, the SDK never answered a request it had not finished, and the id stayed "in use" (409).
    const again = await send(url, { body: toolCall('echo', { text: 'next' }, 7), headers });
    expect(again.json).toMatchObject({ id: 7, result: { content: [{ text: 'next' }] } });
  });
});

describe('a client that reads a call stream slowly', () => {
  it("the SDK server's sends wait for it (nothing is cut, nothing piles up), then all arrive", async () => {
    const tally: Tally = { created: 0, closed: 0, streamed: 0 };
    const { url } = await serve(tally);
    const reader = await pausedCallStream(url, await openSession(url));
    // The handler stalls far short of its 64 sends; without waiting it would send them all and
    // the stream would be ended past 8 MiB unread.
    await untilStalled(() => tally.streamed!);
    expect(tally.streamed).toBeLessThan(32);
    const text = await reader.readToEnd('streamed 64');
    expect(text.match(/"progress":\d+/g) ?? []).toHaveLength(64);
  });
});

describe('instances and their lifetime', () => {
  it('every session gets its own McpServer, closed on DELETE and on expiry', async () => {
    const tally: Tally = { created: 0, closed: 0 };
    const clock = new ManualClock();
    const { url, server } = await serve(tally, { clock, idleTimeoutMs: 60_000 });
    const a = await sdkClient(url, '2025-11-25');
    const b = await sdkClient(url, '2025-11-25');
    expect(tally.created).toBe(2);
    await a.transport.terminateSession();
    expect(tally.closed).toBe(1);
    await b.client.close();
    clock.advance(61_000);
    await server.sessions.sweep();
    expect(tally).toEqual({ created: 2, closed: 2 });
  });

  it('an instance that closes itself is replaced by the next request, and every instance is closed once', async () => {
    const tally: Tally = { created: 0, closed: 0 };
    const { url, server } = await serve(tally, {
      application: bindMcpServer((session) => {
        const mcp = fixtureServer(session, tally);
        // A server that ends itself after answering (as user code may).
        mcp.registerTool('quit', {}, async () => {
          setTimeout(() => void mcp.close(), 10);
          return { content: [{ type: 'text', text: 'bye' }] };
        });
        return mcp;
      }),
    });
    const { client, transport } = await sdkClient(url, '2025-11-25');
    await client.callTool({ name: 'quit' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(tally).toEqual({ created: 1, closed: 1 });
    // The session lives on: the next call gets a new instance, replayed like a restart.
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe('again');
    expect(tally.created).toBe(2);
    await transport.terminateSession();
    expect(tally).toEqual({ created: 2, closed: 2 });
    expect(server.sessions.heldHere).toBe(0);
    await client.close();
  });

  it('close() runs even when the instance close callback throws', async () => {
    const tally: Tally = { created: 0, closed: 0 };
    const errors: unknown[] = [];
    const { url, server } = await serve(tally, {
      application: bindMcpServer(
        (session) => {
          const mcp = fixtureServer(session, tally);
          const onclose = mcp.server.onclose;
          mcp.server.onclose = () => {
            onclose?.();
            throw new Error('user callback fails');
          };
          return mcp;
        },
        { onError: (error) => errors.push(error) },
      ),
    });
    const { client, transport } = await sdkClient(url, '2025-11-25');
    await transport.terminateSession();
    expect(tally.closed).toBe(1);
    expect(errors).toHaveLength(1);
    expect(server.sessions.heldHere).toBe(0);
    await client.close();
  });

  it('a session created on one server is served by another on the same store, with its handshake replayed', async () => {
    const path = join(dir, 'resurrect.db');
    const tally: Tally = { created: 0, closed: 0 };
    const first = await serve(tally, { store: new SqliteStore(path) });
    const { client, transport } = await sdkClient(first.url, '2025-06-18');
    expect(text(await client.callTool({ name: 'count' }))).toBe('1');
    const before = JSON.parse(text(await client.callTool({ name: 'who' }))) as { resurrected: boolean };
    expect(before.resurrected).toBe(false);

    const second = await serve(tally, { store: new SqliteStore(path) });
    const headers = { 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-06-18' };
    const who = await send(second.url, { body: toolCall('who', {}), headers });
    expect(who.status).toBe(200);
    const seen = JSON.parse(text((who.json as { result: unknown }).result)) as {
      capabilities: unknown;
      client: unknown;
      resurrected: boolean;
    };
    expect(seen).toEqual({ capabilities: { sampling: {} }, client: { name: 'sdk-peer', version: '1.0.0' }, resurrected: true });
    // session.state followed the session to the other server.
    const count = await send(second.url, { body: toolCall('count', {}), headers });
    expect(text((count.json as { result: unknown }).result)).toBe('2');
    await client.close();
  });

  it('a request id still in flight in the session is refused with 409, the first call unharmed', async () => {
    const { url } = await serve({ created: 0, closed: 0 });
    expect(await reuseIdInFlight(url)).toEqual(ID_REUSE_REFUSED);
  });

  it('2026-07-28 sessionless traffic gets 400 with -32022 (SDK 1.x speaks the handshake era)', async () => {
    const { url } = await serve({ created: 0, closed: 0 });
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const answer = await send(url, {
      body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } },
      headers: { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
    });
    expect(answer.status).toBe(400);
    // The 2026-07-28 schema requires the requested and supported versions in the error data.
    expect(answer.json).toMatchObject({
      error: { code: -32022, data: { requested: '2026-07-28', supported: ['2025-03-26', '2025-06-18', '2025-11-25'] } },
    });
  });

  it('the SDK client with its own transport sees progress over SSE and plain JSON otherwise', async () => {
    const { url } = await serve({ created: 0, closed: 0 });
    const transport = new StreamableHTTPClientTransport(new URL(url));
    const client = new Client({ name: 'plain', version: '1' });
    await client.connect(transport);
    const headers = { 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' };
    const plain = await send(url, { body: toolCall('echo', { text: 'x' }), headers });
    expect(plain.headers.get('content-type')).toBe('application/json');
    const streamed = await send(url, {
      body: { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'progress', _meta: { progressToken: 't' } } },
      headers,
    });
    expect(streamed.headers.get('content-type')).toBe('text/event-stream');
    await client.close();
  });
});
