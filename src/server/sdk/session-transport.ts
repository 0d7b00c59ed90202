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
 *
 * An idle transport holds no table: one request at a time (the common case) takes one slot,
 * concurrent ones a map made when needed.
 */
import { errorResponse } from '../../protocol/answers.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { cancelledNotification } from '../../protocol/cancelled.js';
import { SessiongateError } from '../../protocol/failures.js';
import { type JsonRpcMessage, type JsonRpcRequest, type RequestId, requestKey } from '../../protocol/jsonrpc.js';
import type { Reply } from '../application.js';
import { PendingReply } from '../pending-reply.js';

/** What the transport hands back to whoever owns it. */
export interface TransportOwner {
  /** The session's id (the SDK hands it to handlers as `extra.sessionId`). */
  readonly id: string;
  /** A message that answers no pending request: for the session's GET stream. */
  toStream(message: JsonRpcMessage): void;
  /** The transport closed (the instance closed it, or its owner did). */
  transportClosed(): void;
}

/** A pending request's reply, with the key of its id. */
class KeyedReply extends PendingReply {
  readonly key: string | number;

  constructor(key: string | number) {
    super();
    this.key = key;
  }
}

export class SessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  readonly #owner: TransportOwner;
  /** The pending request (the common case), a map made only when there are several, or nothing. */
  #pending: KeyedReply | Map<string | number, KeyedReply> | undefined;
  #closed = false;
  /** Requests the instance sent to the client, not answered or cancelled yet (by key). */
  #asked: Set<string | number> | undefined;

  constructor(owner: TransportOwner) {
    this.#owner = owner;
  }

  get sessionId(): string {
    return this.#owner.id;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const outbound = message as JsonRpcMessage;
    if (!('method' in outbound)) {
      const pending = outbound.id === null ? undefined : this.#take(requestKey(outbound.id));
      pending?.respond(outbound);
      return;
    }
    if ('id' in outbound) (this.#asked ??= new Set()).add(requestKey(outbound.id));
    else if (outbound.method === 'notifications/cancelled') this.#answered(outbound.params?.['requestId']);
    const related = options?.relatedRequestId;
    const pending = related === undefined ? undefined : this.#find(requestKey(related));
    // The SDK awaits send: a handler whose client reads its stream too slowly waits for it
    // (docs/limits.md, "Streams").
    if (pending) await pending.push(outbound);
    else this.#owner.toStream(outbound);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = undefined;
    this.onclose?.();
    this.#owner.transportClosed();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A request in flight, or a request of the instance's own waiting for the client's answer. */
  get busy(): boolean {
    return this.#pending !== undefined || this.#asked !== undefined;
  }

  /**
   * A client request into the instance; resolves with its reply. An id still in flight is
   * refused (a request id must not be reused in a session): the instance would answer both
   * under one id, and the first caller would wait forever.
   */
  request(message: JsonRpcRequest, extra: MessageExtraInfo): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('sessiongate: the session instance is closed'));
    const key = requestKey(message.id);
    if (this.#find(key) !== undefined) return Promise.reject(new SessiongateError('SG_REQUEST_ID_IN_USE'));
    const pending = new KeyedReply(key);
    this.#put(pending);
    this.onmessage?.(message, extra);
    return pending.reply;
  }

  /**
   * A request that ended before its answer (deadline, session end, shutdown: the server has
   * answered it already; `McpApplication.cancel`): the instance is told it is cancelled, so its handler's signal aborts
   * (the SDK then sends no response), and its id is free again.
   */
  cancel(id: RequestId, reason: string): void {
    const pending = this.#take(requestKey(id));
    if (pending === undefined) return; // answered meanwhile
    pending.respond(errorResponse(id, 'SG_REQUEST_CANCELLED', `Request cancelled: ${reason}`));
    this.onmessage?.(cancelledNotification(id, reason));
  }

  /** A client notification or response (to a server-to-client request) into the instance. */
  deliver(message: JsonRpcMessage, extra: MessageExtraInfo): void {
    if (this.#closed) return;
    if (!('method' in message)) this.#answered(message.id);
    this.onmessage?.(message as JSONRPCMessage, extra);
  }

  #answered(id: unknown): void {
    if (this.#asked === undefined || (typeof id !== 'string' && typeof id !== 'number')) return;
    this.#asked.delete(requestKey(id));
    if (this.#asked.size === 0) this.#asked = undefined;
  }

  /** Only while open (`request` refuses first when closed). */
  #put(pending: KeyedReply): void {
    const current = this.#pending;
    if (current === undefined) this.#pending = pending;
    else if (current instanceof Map) current.set(pending.key, pending);
    else
      this.#pending = new Map([
        [current.key, current],
        [pending.key, pending],
      ]);
  }

  #find(key: string | number): KeyedReply | undefined {
    const current = this.#pending;
    if (current instanceof Map) return current.get(key);
    return current instanceof KeyedReply && current.key === key ? current : undefined;
  }

  #take(key: string | number): KeyedReply | undefined {
    const current = this.#pending;
    if (current instanceof KeyedReply) {
      if (current.key !== key) return undefined;
      this.#pending = undefined;
      return current;
    }
    if (!(current instanceof Map)) return undefined;
    const pending = current.get(key);
    if (pending) {
      current.delete(key);
      if (current.size === 0) this.#pending = undefined;
    }
    return pending;
  }
}
