/**
 * gateway/upstreams/channel-link.ts in process, over a scripted channel (the MessageChannel
 * interface is ours): a request that reuses the id of one just cancelled is written only after
 * the server has answered the ping sent behind the cancellation. The official SDK applies
 * `notifications/cancelled` a turn after reading it, to whichever request holds the id by
 * then: read in one chunk with the new request, it cancelled the new one (seen as an
 * intermittent -32001 in test/abuse.test.ts under load).
 */
import { describe, expect, it } from 'vitest';
import { Cancellation } from '../src/protocol/cancellation.js';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import type { RequestContext, SessionHandle } from '../src/server/application.js';
import { ChannelLink } from '../src/gateway/upstreams/channel-link.js';
import type { ChannelEvents, MessageChannel } from '../src/gateway/upstreams/message-channel.js';

/** A channel that keeps what it was sent, and lets the test answer. */
class ScriptedChannel implements MessageChannel {
  readonly sent: JsonRpcMessage[] = [];
  events: ChannelEvents | undefined;
  alive = true;
  endedWhy = 'ended';
  bind(events: ChannelEvents): void {
    this.events = events;
  }
  send(message: JsonRpcMessage): boolean {
    this.sent.push(message);
    return true;
  }
  pauseOutput(): void {}
  resumeOutput(): void {}
  async stop(): Promise<void> {}
  answer(id: unknown): void {
    this.events!.onMessage({ jsonrpc: '2.0', id: id as number, result: {} });
  }
}

const session = { id: 'session-1', record: { clientSessionId: null, state: {}, initialize: {} }, port: {} } as unknown as SessionHandle;

describe('a channel link', () => {
  it('writes a request reusing a just-cancelled id only after the ping behind the cancellation is answered', async () => {
    const channel = new ScriptedChannel();
    const link = new ChannelLink(session, { takeChannel: async () => channel, grace: 0, onStderr: () => {}, onError: () => {} });
    const opened = await link.channel(session, true, {} as RequestContext);
    const first = link.call(opened, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow' } });
    const cancelled = new Cancellation();
    link.cancelOnAbort(opened, 1, cancelled);
    cancelled.abort(new Error('deadline'));
    expect(await first).toMatchObject({ id: 1, error: { data: { code: 'SG_UPSTREAM_UNAVAILABLE' } } });
    const methods = (): string[] => channel.sent.map((message) => ('method' in message ? message.method : 'response'));
    expect(methods()).toEqual(['tools/call', 'notifications/cancelled', 'ping']);

    const second = link.call(opened, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'fast' } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(methods()).toEqual(['tools/call', 'notifications/cancelled', 'ping']); // held back
    const ping = channel.sent[2] as { id: string };
    channel.answer(ping.id);
    await expect.poll(methods).toEqual(['tools/call', 'notifications/cancelled', 'ping', 'tools/call']);
    channel.answer(1);
    expect(await second).toMatchObject({ id: 1, result: {} });
    // Once the server has taken the cancellation in, the id is written at once again.
    const third = link.call(opened, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fast' } });
    expect(methods().at(-1)).toBe('tools/call');
    channel.answer(2);
    await third;
  });
});
