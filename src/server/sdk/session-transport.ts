/**
 * @module server/sdk/session-transport
 * An in-process implementation of the SDK's `Transport` for one session: no HTTP, no SSE
 * parsing, no per-request bookkeeping kept after the answer. Requests come in from the session
 * server; what the SDK instance sends goes back to the HTTP exchange it belongs to:
 * - a response, to the pending request with its id;
 * - a message with `relatedRequestId` (progress, logging, sampling, elicitation), onto that
 *   request's stream;
 * - anything else (list_changed, resource updates), to the session's GET stream (S6), open
 *   on this replica or another; with none open it is dropped, as the SDK's own transport does.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import type { JsonRpcMessage, JsonRpcRequest, JsonRpcResponse, RequestId } from '../../protocol/jsonrpc.js';
import type { Reply } from '../application.js';
import { PendingReply } from '../pending-reply.js';

/** Request ids are strings or numbers; 1 and "1" are different ids. */
function keyOf(id: RequestId): string | number {
  return typeof id === 'number' ? id : `s:${id}`;
}

export class SessionTransport implements Transport {
  sessionId: string;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  readonly #pending = new Map<string | number, PendingReply>();
  readonly #toStream: (message: JsonRpcMessage) => void;
  #closed = false;

  /** `toStream` takes what belongs on the session's GET stream. */
  constructor(sessionId: string, toStream: (message: JsonRpcMessage) => void) {
    this.sessionId = sessionId;
    this.#toStream = toStream;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const outbound = message as JsonRpcMessage;
    if (!('method' in outbound)) {
      const pending = outbound.id === null ? undefined : this.#pending.get(keyOf(outbound.id));
      if (pending) {
        this.#pending.delete(keyOf((outbound as JsonRpcResponse).id!));
        pending.respond(outbound);
      }
      return;
    }
    const related = options?.relatedRequestId;
    const pending = related === undefined ? undefined : this.#pending.get(keyOf(related));
    if (pending) pending.push(outbound);
    else this.#toStream(outbound);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.clear();
    this.onclose?.();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A client request into the instance; resolves with its reply. */
  request(message: JsonRpcRequest, extra: MessageExtraInfo): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('sessiongate: the session instance is closed'));
    const pending = new PendingReply();
    this.#pending.set(keyOf(message.id), pending);
    this.onmessage?.(message as JSONRPCMessage, extra);
    return pending.reply;
  }

  /** A client notification or response (to a server-to-client request) into the instance. */
  deliver(message: JsonRpcMessage, extra: MessageExtraInfo): void {
    if (!this.#closed) this.onmessage?.(message as JSONRPCMessage, extra);
  }
}
