/**
 * @module gateway/upstreams/sse/sse-upstream
 * Puts a server of the deprecated HTTP+SSE transport (protocol 2024-11-05) behind sessiongate's
 * Streamable HTTP sessions: one event stream per session (sse-channel.ts), opened at
 * initialize, closed when the session ends; a stream that ends between requests is opened again
 * and the handshake replayed (a channel upstream, channel-upstream.ts). Deprecated since MCP
 * 2025-03-26 and here only so that old servers can be put behind a gateway while they move to
 * Streamable HTTP.
 */
import { checkOptions, option, type OptionsSchema, required } from '../../../protocol/options.js';
import { type McpApplication, plainApplication } from '../../../server/application.js';
import { ChannelUpstream } from '../channel-upstream.js';
import type { ChannelSource } from '../message-channel.js';
import { SseChannel } from './sse-channel.js';

export interface SseUpstreamOptions {
  /** The server's event stream (often `.../sse`). Required. */
  url: string | URL;
  /** Static headers on the stream and every POST (an API key the server wants). Default none. */
  upstreamHeaders?: Record<string, string>;
  /** A session's stream with no traffic for this long is closed (the session lives on), ms; 0 never. Default 5 minutes. */
  idleTimeoutMs?: number;
  /** The largest message accepted from the server, characters. Default 16 MiB. */
  maxMessageLength?: number;
  /** How long a new stream has to name its POST endpoint, ms. Default 10,000. */
  openTimeoutMs?: number;
  /** What the channel says for the operator, with the session's short tag. Default: to stderr. */
  onStderr?: (sessionTag: string | undefined, line: string) => void;
  onError?: (error: unknown) => void;
}

export const sseUpstreamSchema = {
  url: required(option.httpUrl),
  idleTimeoutMs: option.nonNegativeNumber,
  maxMessageLength: option.positiveInteger,
  openTimeoutMs: option.finitePositive,
  onStderr: option.func,
  onError: option.func,
} satisfies OptionsSchema;

export function sseUpstream(options: SseUpstreamOptions): McpApplication {
  checkOptions(sseUpstreamSchema, options);
  const url = new URL(options.url);
  const channelOptions = {
    headers: options.upstreamHeaders ?? {},
    maxMessageLength: options.maxMessageLength ?? 16 * 1024 * 1024,
    openTimeoutMs: options.openTimeoutMs ?? 10_000,
  };
  const source: ChannelSource = { take: () => SseChannel.open(url, channelOptions), refill: () => {}, close: async () => {} };
  return plainApplication(
    new ChannelUpstream({
      source,
      grace: 0,
      idleMs: options.idleTimeoutMs ?? 5 * 60_000,
      onStderr: options.onStderr ?? ((tag, line) => process.stderr.write(`[${tag ?? 'sse'}] ${line}\n`)),
      onError: options.onError ?? (() => {}),
      cannotOpen: "the upstream's event stream could not be opened",
    }),
  );
}
