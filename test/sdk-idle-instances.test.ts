/**
 * bindMcpServer's instanceIdleTimeoutMs: the McpServer of an idle session is closed to free its
 * memory, and the session's next request rebuilds it as after a restart, with the handshake and
 * the session-scoped calls (logging/setLevel, resources/subscribe) replayed. Real sockets, the
 * official SDK McpServer, raw HTTP as the client (the SDK client would keep a GET stream open,
 * which keeps the instance).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { bindMcpServer, type BoundSession, type McpBindingOptions } from '../src/server/sdk/sdk-binding.js';
import { openGetStream, openSession, send, toolCall, type RawAnswer } from './helpers/mcp-http.js';
import { startServer, type RunningServer } from './helpers/test-server.js';

const IDLE_MS = 200;
const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

interface Counts {
  built: number;
  closed: number;
  resurrected: number;
}

/** An McpServer whose tools report what its instance holds in memory. */
function instance(session: BoundSession, counts: Counts): McpServer {
  counts.built++;
  if (session.resurrected) counts.resurrected++;
  const mcp = new McpServer({ name: 'idle', version: '1' }, { capabilities: { logging: {}, resources: { subscribe: true } } });
  const subscribed = new Set<string>();
  let calls = 0;
  const onclose = mcp.server.onclose;
  mcp.server.onclose = () => {
    onclose?.();
    counts.closed++;
  };
  mcp.server.setRequestHandler(SubscribeRequestSchema, async (request) => (subscribed.add(request.params.uri), {}));
  mcp.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => (subscribed.delete(request.params.uri), {}));
  mcp.registerTool('memory', {}, async () => ({
    content: [
      { type: 'text', text: JSON.stringify({ calls: ++calls, subscribed: [...subscribed].sort(), client: mcp.server.getClientVersion() }) },
    ],
  }));
  mcp.registerTool('wait', {}, async () => {
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS * 3));
    return { content: [{ type: 'text', text: 'waited' }] };
  });
  mcp.registerTool('logs', {}, async (extra) => {
    // Unsolicited log messages (GET stream), filtered by the session's log level.
    await mcp.server.sendLoggingMessage({ level: 'info', data: 'quiet' }, extra.sessionId);
    await mcp.server.sendLoggingMessage({ level: 'error', data: 'loud' }, extra.sessionId);
    return { content: [{ type: 'text', text: 'logged' }] };
  });
  return mcp;
}

async function serve(options: McpBindingOptions = { instanceIdleTimeoutMs: IDLE_MS }): Promise<{ url: string; counts: Counts }> {
  const counts: Counts = { built: 0, closed: 0, resurrected: 0 };
  const server = await startServer({ application: bindMcpServer((session) => instance(session, counts), options) });
  running.push(server);
  return { url: server.url, counts };
}

const idleLong = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, IDLE_MS * 2.5));

function resultText(answer: RawAnswer): string {
  return (answer.json as { result: { content: { text: string }[] } }).result.content[0]!.text;
}

async function memory(url: string, headers: Record<string, string>): Promise<{ calls: number; subscribed: string[]; client: unknown }> {
  const answer = await send(url, { body: toolCall('memory', {}), headers });
  expect(answer.status).toBe(200);
  return JSON.parse(resultText(answer)) as { calls: number; subscribed: string[]; client: unknown };
}

describe('instanceIdleTimeoutMs', () => {
  it('closes the instance of an idle session; the next request rebuilds it with the handshake replayed', async () => {
    const { url, counts } = await serve();
    const id = await openSession(url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    expect((await memory(url, headers)).calls).toBe(1);
    expect(counts).toEqual({ built: 1, closed: 0, resurrected: 0 });

    await idleLong();
    expect(counts).toEqual({ built: 1, closed: 1, resurrected: 0 });
    const after = await memory(url, headers);
    // A new instance (its in-memory count starts again), initialized as the original was.
    expect(after.calls).toBe(1);
    expect(after.client).toEqual({ name: 'rule-test', version: '1.0.0' });
    expect(counts).toEqual({ built: 2, closed: 1, resurrected: 1 });
  });

  it('still reads the deprecated name instanceIdleTimeout when instanceIdleTimeoutMs is unset', async () => {
    const { url, counts } = await serve({ instanceIdleTimeout: IDLE_MS });
    const id = await openSession(url);
    await memory(url, { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' });
    await idleLong();
    expect(counts.closed).toBe(1);
  });

  it('an instance in use is kept: a request in flight longer than the timeout, then requests in a row', async () => {
    const { url, counts } = await serve();
    const id = await openSession(url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    const waited = await send(url, { body: toolCall('wait', {}), headers });
    expect(resultText(waited)).toBe('waited');
    for (let i = 0; i < 6; i++) {
      await memory(url, headers);
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS / 2));
    }
    expect(counts.closed).toBe(0);
    expect((await memory(url, headers)).calls).toBe(7);
  });

  it('an open GET stream keeps the instance; closing it lets the instance go', async () => {
    const { url, counts } = await serve();
    const id = await openSession(url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    await memory(url, headers);
    const stream = await openGetStream(url, headers);
    expect(stream.status).toBe(200);
    await idleLong();
    expect(counts.closed).toBe(0);
    stream.close();
    await idleLong();
    expect(counts.closed).toBe(1);
  });

  it('log level and subscriptions are replayed into the rebuilt instance (an unsubscribe is not)', async () => {
    const { url, counts } = await serve();
    const id = await openSession(url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    const call = async (method: string, params: Record<string, unknown>): Promise<void> => {
      const answer = await send(url, { body: { jsonrpc: '2.0', id: method, method, params }, headers });
      expect(answer.json).toMatchObject({ result: {} });
    };
    await call('logging/setLevel', { level: 'error' });
    await call('resources/subscribe', { uri: 'file:///a' });
    await call('resources/subscribe', { uri: 'file:///b' });
    await call('resources/unsubscribe', { uri: 'file:///a' });

    await idleLong();
    expect(counts.closed).toBe(1);
    expect((await memory(url, headers)).subscribed).toEqual(['file:///b']);
    expect(counts.resurrected).toBe(1);

    // Only the error-level message reaches the GET stream: the level came back with the instance.
    const stream = await openGetStream(url, headers);
    expect(resultText(await send(url, { body: toolCall('logs', {}), headers }))).toBe('logged');
    expect(await stream.next(2000)).toMatchObject({ method: 'notifications/message', params: { level: 'error', data: 'loud' } });
    expect(await stream.next(300)).toBeUndefined();
    stream.close();
  });

  it('without the option, instances live as long as their session; a bad value is refused', async () => {
    const { url, counts } = await serve({});
    const id = await openSession(url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    await memory(url, headers);
    await idleLong();
    expect(counts.closed).toBe(0);
    expect((await memory(url, headers)).calls).toBe(2);
    for (const bad of [0, -1, Number.NaN, Infinity]) {
      expect(() => bindMcpServer(() => new McpServer({ name: 'x', version: '1' }), { instanceIdleTimeoutMs: bad })).toThrow(
        /instanceIdleTimeoutMs/,
      );
    }
  });

  it("session.state keeps the binding's own keys to itself", async () => {
    let seen: BoundSession | undefined;
    const server = await startServer({
      application: bindMcpServer((session) => ((seen = session), instance(session, { built: 0, closed: 0, resurrected: 0 })), {
        instanceIdleTimeoutMs: IDLE_MS,
      }),
    });
    running.push(server);
    const id = await openSession(server.url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    await send(server.url, { body: { jsonrpc: '2.0', id: 5, method: 'logging/setLevel', params: { level: 'debug' } }, headers });
    await seen!.state.set('mine', 1);
    expect(seen!.state.all()).toEqual({ mine: 1 });
    expect(seen!.state.get('sessiongate.scoped')).toBeUndefined();
    await expect(seen!.state.set('sessiongate.scoped', [])).rejects.toThrow(/reserved/);
    // Both are in the record: the user's value and the replay list.
    const record = await server.server.sessions.peek(id);
    expect(Object.keys(record!.state).sort()).toEqual(['mine', 'sessiongate.scoped']);
  });
});
