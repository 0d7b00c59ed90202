/**
 * SDK-side fixtures: an McpServer with tools that exercise every message path, and an SDK
 * client transport pinned to one protocol revision.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';
import type { BoundSession } from '../../src/server/sdk/sdk-binding.js';

export interface Tally {
  created: number;
  closed: number;
  /** Why the `wait` tool's handler was cancelled, each time it was. */
  cancelled?: string[];
  /** Progress messages the `stream` tool has sent so far (each send awaited). */
  streamed?: number;
}

/** An McpServer whose tools send progress, a sampling request, list_changed and state writes. */
export function fixtureServer(session: BoundSession, tally?: Tally): McpServer {
  if (tally) tally.created++;
  const server = new McpServer({ name: 'fixture', version: '1.0.0' }, { capabilities: { logging: {}, tools: { listChanged: true } } });
  const onclose = server.server.onclose;
  server.server.onclose = () => {
    onclose?.();
    // The gateway's start-up probe (an initialize, then DELETE) is not a session of the test's.
    if (server.server.getClientVersion()?.name === 'sessiongate-probe') {
      if (tally) tally.created--;
    } else if (tally) tally.closed++;
  };
  // `count` progress messages of `size` characters on the call's stream, each send awaited.
  server.registerTool('stream', { inputSchema: { count: z.number(), size: z.number() } }, async ({ count, size }, extra) => {
    for (let progress = 1; progress <= count; progress++) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: extra._meta?.progressToken ?? 0, progress, total: count, message: 's'.repeat(size) },
      });
      if (tally) tally.streamed = progress;
    }
    return { content: [{ type: 'text', text: `streamed ${count}` }] };
  });
  // Waits until its call is cancelled (only a cancellation ends it).
  server.registerTool('wait', {}, async (extra) => {
    await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
    tally?.cancelled?.push(String(extra.signal.reason));
    return { content: [{ type: 'text', text: 'too late' }] };
  });
  server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('progress', {}, async (extra) => {
    for (let progress = 1; progress <= 3; progress++) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: extra._meta!.progressToken!, progress, total: 3 },
      });
    }
    return { content: [{ type: 'text', text: 'done' }] };
  });
  server.registerTool('region', { inputSchema: { region: z.string().meta({ 'x-mcp-header': 'Region' }) } }, async ({ region }) => ({
    content: [{ type: 'text', text: `region ${region}` }],
  }));
  server.registerTool('log', {}, async (extra) => {
    // A log message related to the call (it rides on the call's stream).
    await extra.sendNotification({ method: 'notifications/message', params: { level: 'warning', data: 'careful' } });
    return { content: [{ type: 'text', text: 'logged' }] };
  });
  server.registerTool('ask', {}, async () => {
    // A server-to-client request during the call: it must reach the client, and its answer us.
    const answer = await server.server.createMessage({
      messages: [{ role: 'user', content: { type: 'text', text: 'hi?' } }],
      maxTokens: 5,
    });
    return { content: [{ type: 'text', text: `client said ${(answer.content as { text: string }).text}` }] };
  });
  server.registerTool('grow', {}, async () => {
    // Adding a tool makes the McpServer send notifications/tools/list_changed (unsolicited: GET stream).
    server.registerTool(`extra-${Date.now()}`, {}, async () => ({ content: [] }));
    return { content: [{ type: 'text', text: 'grown' }] };
  });
  server.registerTool('who', {}, async () => ({
    content: [
      {
        type: 'text',
        text: JSON.stringify({
          capabilities: server.server.getClientCapabilities(),
          client: server.server.getClientVersion(),
          resurrected: session.resurrected,
        }),
      },
    ],
  }));
  server.registerTool('count', {}, async () => {
    const n = ((session.state.get('n') as number | undefined) ?? 0) + 1;
    await session.state.set('n', n);
    return { content: [{ type: 'text', text: String(n) }] };
  });
  return server;
}

/** The SDK client always asks for its latest revision; this pins the one a test wants. */
export class PinnedTransport extends StreamableHTTPClientTransport {
  readonly #version: string;
  constructor(url: URL, version: string, opts?: ConstructorParameters<typeof StreamableHTTPClientTransport>[1]) {
    super(url, opts);
    this.#version = version;
  }
  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('method' in message && message.method === 'initialize' && message.params) {
      message = { ...message, params: { ...message.params, protocolVersion: this.#version } };
    }
    return super.send(message, options);
  }
}
