/**
 * @module gateway/upstreams/message-channel
 * One session's connection to an upstream that speaks JSON-RPC messages both ways with no
 * request/response pairing of its own: a stdio child process, or an HTTP+SSE connection (the
 * deprecated 2024-11-05 transport). A link (channel-link.ts) pairs answers with calls, replays
 * the handshake into a fresh channel and routes what the server sends; the upstream
 * (channel-upstream.ts) keeps one link per session.
 */
import type { JsonRpcMessage } from '../../protocol/jsonrpc.js';
import type { RequestContext } from '../../server/application.js';

export interface ChannelEvents {
  onMessage(message: JsonRpcMessage): void;
  /** The channel ended (a process exited, a stream closed), by itself or stopped. */
  onExit(): void;
  /** A line for the operator's log about this channel (a child's stderr, a failed POST). */
  onStderr(line: string): void;
}

export interface MessageChannel {
  readonly alive: boolean;
  /** Why calls on it fail once it has ended ("the upstream process exited", "...stopped: ..."). */
  readonly endedWhy: string;
  /** Who hears this channel from now on. */
  bind(events: ChannelEvents): void;
  /** False when the channel can no longer take it. */
  send(message: JsonRpcMessage): boolean;
  /** Stop reading (backpressure) until `resumeOutput`. */
  pauseOutput(): void;
  resumeOutput(): void;
  /** Ends it; resolves when it is gone. */
  stop(graceMs: number): Promise<void>;
}

/** Where a link gets a fresh channel for its session. */
export interface ChannelSource {
  /** A channel for the session of the request `context` is for (whose person may shape it: a stdio child's environment). */
  take(context: RequestContext): Promise<MessageChannel>;
  /** A channel was taken for a new session and its initialize answered (a pool tops up). */
  refill(): void;
  close(): Promise<void>;
}
