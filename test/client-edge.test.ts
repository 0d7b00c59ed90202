/**
 * The client's edge cases against a scripted server: resumption, drops, secrets, bounded
 * close, refused re-initialize, and the standalone API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SessionClient, SessionClientTransport } from '../src/client/index.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { initializeAnswer, scriptedServer, SESSION, sse, type ScriptedServer, type Seen } from './helpers/scripted-server.js';
import { startServer, type RunningServer } from './helpers/test-server.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

async function scripted(answer: Parameters<typeof scriptedServer>[0]): Promise<ScriptedServer> {
  const server = await scriptedServer(answer);
  open.push(server);
  return server;
}

const accepted = { status: 202 };
const result = (request: Seen, value: string): string =>
  JSON.stringify({ jsonrpc: '2.0', id: request.body?.id, result: { content: [{ type: 'text', text: value }] } });

/** A call's SSE answer that sends one progress event (id `e1`, `retry: retryMs`), then drops the connection. */
function droppedAfterProgress(retryMs: number) {
  const progress = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } });
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    chunks: sse(`retry: ${retryMs}\nid: e1\ndata: ${progress}`),
    drop: true,
  };
}

describe('SSE streams', () => {
  it('a POST stream dropped before the response is resumed with GET + Last-Event-ID after `retry`', async () => {
    let getAt = 0;
    let droppedAt = 0;
    const server = await scripted((request) => {
      if (request.body?.method === 'initialize') return initializeAnswer(request);
      if (request.body?.method === 'tools/call') {
        droppedAt = Date.now();
        return droppedAfterProgress(150);
      }
      if (request.method === 'GET' && request.headers['last-event-id'] === 'e1') {
        getAt = Date.now();
        const call = server.seen.find((s) => s.body?.method === 'tools/call')!;
        return { status: 200, headers: { 'content-type': 'text/event-stream' }, chunks: sse(`id: e2\ndata: ${result(call, 'resumed')}`) };
      }
      return request.method === 'GET' ? { status: 405 } : accepted;
    });
    const client = new SessionClient(server.url);
    open.push(client);
    await client.connect({ clientInfo: { name: 'c', version: '1' } });
    expect(await client.request('tools/call', { name: 'x' })).toEqual({ content: [{ type: 'text', text: 'resumed' }] });
    expect(getAt - droppedAt).toBeGreaterThanOrEqual(140);
    expect(server.seen.filter((s) => s.body?.method === 'tools/call')).toHaveLength(1);
  });

  it('a resumption the server ends with nothing (the stream is not there) fails the call at once, not after more waits', async () => {
    const server = await scripted((request) => {
      if (request.body?.method === 'initialize') return initializeAnswer(request);
      if (request.body?.method === 'tools/call') {
        return droppedAfterProgress(10);
      }
      // docs/RESUMPTION.md: an id the server does not keep gets an empty stream that ends at once.
      if (request.method === 'GET' && request.headers['last-event-id'] !== undefined) {
        return { status: 200, headers: { 'content-type': 'text/event-stream' }, chunks: [] };
      }
      return request.method === 'GET' ? { status: 405 } : accepted;
    });
    const client = new SessionClient(server.url);
    open.push(client);
    await client.connect({ clientInfo: { name: 'c', version: '1' } });
    await expect(client.request('tools/call', { name: 'x' })).rejects.toMatchObject({
      code: 'SG_CLIENT_CONNECTION',
      message: expect.stringContaining('could not resume the stream after event e1') as unknown,
    });
    expect(server.seen.filter((s) => s.method === 'GET' && s.headers['last-event-id'] === 'e1')).toHaveLength(1);
  });

  it('a stream dropped without event ids fails the call (SG_CLIENT_CONNECTION) and never re-sends it', async () => {
    const server = await scripted((request) => {
      if (request.body?.method === 'initialize') return initializeAnswer(request);
      if (request.body?.method === 'tools/call')
        return { status: 200, headers: { 'content-type': 'text/event-stream' }, chunks: ['data: {"jsonrpc":"2.0","meth'], drop: true };
      return request.method === 'GET' ? { status: 405 } : accepted;
    });
    const client = new SessionClient(server.url);
    open.push(client);
    await client.connect({ clientInfo: { name: 'c', version: '1' } });
    await expect(client.request('tools/call', { name: 'x' })).rejects.toMatchObject({ code: 'SG_CLIENT_CONNECTION' });
    expect(server.seen.filter((s) => s.body?.method === 'tools/call')).toHaveLength(1);
  });

  it('the GET stream delivers server notifications and reconnects with Last-Event-ID', async () => {
    const gets: (string | undefined)[] = [];
    const server = await scripted((request) => {
      if (request.body?.method === 'initialize') return initializeAnswer(request);
      if (request.method === 'GET') {
        gets.push(request.headers['last-event-id'] as string | undefined);
        const note = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
        return gets.length === 1
          ? { status: 200, headers: { 'content-type': 'text/event-stream' }, chunks: sse(`retry: 20\nid: g1\ndata: ${note}`) }
          : { status: 405 };
      }
      return accepted;
    });
    const notes: unknown[] = [];
    const client = new SessionClient(server.url, { onMessage: (message) => notes.push(message) });
    open.push(client);
    await client.connect({ clientInfo: { name: 'c', version: '1' } });
    await expect.poll(() => gets.length).toBe(2);
    expect(gets).toEqual([undefined, 'g1']);
    expect(notes).toEqual([{ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
  });

  it('a GET answered 409 (another stream of the session still open) is asked again, and then delivers; unlisten stops it', async () => {
    let gets = 0;
    const server = await scripted((request) => {
      if (request.body?.method === 'initialize') return initializeAnswer(request);
      if (request.method === 'GET') {
        gets++;
        const note = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
        // The first two find the old stream still open; the third gets it (and the server retry hint is 20 ms).
        return gets < 3
          ? { status: 409 }
          : { status: 200, headers: { 'content-type': 'text/event-stream' }, chunks: sse(`retry: 20\ndata: ${note}`) };
      }
      return accepted;
    });
    const notes: unknown[] = [];
    const client = new SessionClient(server.url, { onMessage: (message) => notes.push(message) });
    open.push(client);
    await client.connect({ clientInfo: { name: 'c', version: '1' } });
    await expect.poll(() => notes.length, { timeout: 8000 }).toBeGreaterThan(0);
    expect(notes[0]).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(gets).toBeGreaterThanOrEqual(3);
    // Each stream ends at once and is reopened after 20 ms (the server's retry). Unlistened, it
    // is not (one GET may already be on its way).
    client.unlisten();
    const asked = gets;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gets).toBeLessThanOrEqual(asked + 1);
  });
});
describe('session id (C2)', () => {
  it('a later response carrying another MCP-Session-Id does not overwrite the id', async () => {
    const server = await scripted((request) => {
      if (request.body?.method === 'initialize') return initializeAnswer(request);
      if (request.body?.method === 'tools/list') {
        return {
          status: 200,
          headers: { 'content-type': 'application/json', 'mcp-session-id': 'another-id-from-a-later-answer' },
          chunks: [JSON.stringify({ jsonrpc: '2.0', id: request.body.id, result: { tools: [] } })],
        };
      }
      return request.method === 'GET' ? { status: 405 } : accepted;
    });
    const client = new SessionClient(server.url);
    open.push(client);
    await client.connect({ clientInfo: { name: 'c', version: '1' } });
    await client.request('tools/list');
    await client.request('tools/list');
    expect(client.sessionId).toBe(SESSION);
    expect(server.seen.filter((s) => s.body?.method === 'tools/list').map((s) => s.headers['mcp-session-id'])).toEqual([SESSION, SESSION]);
  });
});

describe('secrets and bounds', () => {
  it('error messages never carry the session id or the credentials, even when the server echoes them', async () => {
    const server = await scripted((request) => {
      if (request.body?.method === 'initialize') return initializeAnswer(request);
      const echo = `session ${String(request.headers['mcp-session-id'])} auth ${String(request.headers['authorization'])}`;
      return {
        status: 500,
        headers: { 'content-type': 'application/json' },
        chunks: [JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: echo } })],
      };
    });
    const client = new SessionClient(server.url, { headers: { authorization: 'Bearer top-secret-token' } });
    open.push(client);
    await client.connect({ clientInfo: { name: 'c', version: '1' } }).catch(() => {});
    const error = (await client.request('tools/list').catch((e: unknown) => e)) as Error & { code: string; status: number };
    expect(error).toMatchObject({ code: 'SG_CLIENT_HTTP_STATUS', status: 500 });
    expect(error.message).not.toContain(SESSION);
    expect(error.message).not.toContain('top-secret-token');
    expect(error.message).toContain('[redacted]');
  });

  it('close() sends DELETE and returns within closeTimeoutMs even when the server never answers it', async () => {
    const server = await scripted((request) => {
      if (request.body?.method === 'initialize') return initializeAnswer(request);
      if (request.method === 'DELETE') return { status: 0, hang: true };
      return request.method === 'GET' ? { status: 405 } : accepted;
    });
    const client = new SessionClient(server.url, { closeTimeoutMs: 200 });
    await client.connect({ clientInfo: { name: 'c', version: '1' } });
    const started = Date.now();
    await client.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.seen.at(-1)).toMatchObject({ method: 'DELETE', headers: { 'mcp-session-id': SESSION } });
  });

  it('close() accepts 405 for DELETE', async () => {
    const server = await scripted((request) =>
      request.body?.method === 'initialize' ? initializeAnswer(request) : request.method === 'DELETE' ? { status: 405 } : accepted,
    );
    const client = new SessionClient(server.url, { openStream: false });
    await client.connect({ clientInfo: { name: 'c', version: '1' } });
    await expect(client.close()).resolves.toBeUndefined();
  });

  it('a re-initialize the server refuses ends in SessionExpiredError, id cleared', async () => {
    let initializes = 0;
    const server = await scripted((request) => {
      if (request.body?.method === 'initialize') {
        initializes++;
        if (initializes === 1) return initializeAnswer(request);
        return {
          status: 200,
          headers: { 'content-type': 'application/json' },
          chunks: [JSON.stringify({ jsonrpc: '2.0', id: request.body.id, error: { code: -32602, message: 'no' } })],
        };
      }
      if (request.body?.method === 'tools/list') return { status: 404 };
      return request.method === 'GET' ? { status: 405 } : accepted;
    });
    const client = new SessionClient(server.url);
    open.push(client);
    await client.connect({ clientInfo: { name: 'c', version: '1' } });
    await expect(client.request('tools/list')).rejects.toMatchObject({ code: 'SG_CLIENT_SESSION_EXPIRED', name: 'SessionExpiredError' });
    expect(client.sessionId).toBeUndefined();
  });
});

describe('standalone SessionClient against the session server', () => {
  let running: RunningServer;
  afterEach(async () => running?.close());

  it('connect, request, notify, a JSON-RPC error as SG_CLIENT_RPC_ERROR, recovery, close', async () => {
    running = await startServer();
    const client = new SessionClient(running.url);
    const info = await client.connect({ clientInfo: { name: 'c', version: '1' }, protocolVersion: '2025-06-18' });
    expect(info['protocolVersion']).toBe('2025-06-18');
    expect(await client.request('tools/call', { name: 'echo', arguments: { text: 'hi' } })).toEqual({
      content: [{ type: 'text', text: 'hi' }],
    });
    await client.notify('notifications/cancelled', { requestId: 99 });
    await expect(client.request('no/such/method')).rejects.toMatchObject({ code: 'SG_CLIENT_RPC_ERROR', rpc: { code: -32601 } });
    await running.server.sessions.end(client.sessionId!, 'admin');
    expect(await client.request('tools/call', { name: 'echo', arguments: { text: 'again' } })).toEqual({
      content: [{ type: 'text', text: 'again' }],
    });
    expect(client.recoveries).toBe(1);
    const id = client.sessionId!;
    await client.close();
    expect(await running.server.sessions.peek(id)).toBeUndefined();
  });

  it('the SDK Client over our transport is refused politely by a closed transport', async () => {
    running = await startServer();
    const transport = new SessionClientTransport(running.url);
    const client = new Client({ name: 'c', version: '1' });
    await client.connect(transport);
    await client.close();
    await expect(transport.send({ jsonrpc: '2.0', id: 5, method: 'ping' })).rejects.toMatchObject({ code: 'SG_CLIENT_CLOSED' });
  });
});
