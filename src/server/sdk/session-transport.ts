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
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { SessiongateError } from '../../protocol/failures.js';
import type { JsonRpcMessage, JsonRpcRequest, RequestId } from '../../protocol/jsonrpc.js';
import type { Reply } from '../application.js';
import { PendingReply } from '../pending-reply.js';

/** Request ids are strings or numbers; 1 and "1" are different ids. */
function keyOf(id: RequestId): string | number {
  return typeof id === 'number' ? id : `s:${id}`;
}

/** What the transport hands back to whoever owns it. */
export interface TransportOwner {
  /** A message that answers no pending request: for the session's GET stream. */
  toStream(message: JsonRpcMessage): void;
  /** The transport closed (the instance closed it, or its owner did). */
  transportClosed(): void;
}

export class SessionTransport implements Transport {
  sessionId: string;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  readonly #owner: TransportOwner;
  /** The pending request when there is one; `#more` when there are several. */
  #oneKey: string | number | undefined;
  #one: PendingReply | undefined;
  #more: Map<string | number, PendingReply> | undefined;
  /** Requests the instance sent to the client, not answered or cancelled yet (by key). */
  #asked: Set<string | number> | undefined;
  #closed = false;

  constructor(sessionId: string, owner: TransportOwner) {
    this.sessionId = sessionId;
    this.#owner = owner;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const outbound = message as JsonRpcMessage;
    if (!('method' in outbound)) {
      const pending = outbound.id === null ? undefined : this.#take(keyOf(outbound.id));
      pending?.respond(outbound);
      return;
    }
    if ('id' in outbound) (this.#asked ??= new Set()).add(keyOf(outbound.id));
    else if (outbound.method === 'notifications/cancelled') this.#answered(outbound.params?.['requestId']);
    const related = options?.relatedRequestId;
    const pending = related === undefined ? undefined : this.#find(keyOf(related));
    if (pending) pending.push(outbound);
    else this.#owner.toStream(outbound);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#one = undefined;
    this.#more = undefined;
    this.onclose?.();
    this.#owner.transportClosed();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A request in flight, or a request of the instance's own waiting for the client's answer. */
  get busy(): boolean {
    return this.#one !== undefined || this.#more !== undefined || this.#asked !== undefined;
  }

  /**
   * A client request into the instance; resolves with its reply. An id still in flight is
   * refused (a request id must not be reused in a session): the instance would answer both
   * under one id, and the first caller would wait forever.
   */
  request(message: JsonRpcRequest, extra: MessageExtraInfo): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('sessiongate: the session instance is closed'));
    const key = keyOf(message.id);
    if (this.#find(key) !== undefined) return Promise.reject(new SessiongateError('SG_REQUEST_ID_IN_USE'));
    const pending = new PendingReply();
    this.#put(key, pending);
    this.onmessage?.(message as JSONRPCMessage, extra);
    return pending.reply;
  }

  /** A client notification or response (to a server-to-client request) into the instance. */
  deliver(message: JsonRpcMessage, extra: MessageExtraInfo): void {
    if (this.#closed) return;
    if (!('method' in message)) this.#answered(message.id);
    this.onmessage?.(message as JSONRPCMessage, extra);
  }

  #answered(id: unknown): void {
    if (this.#asked === undefined || (typeof id !== 'string' && typeof id !== 'number')) return;
    this.#asked.delete(keyOf(id));
    if (this.#asked.size === 0) this.#asked = undefined;
  }

  #put(key: string | number, pending: PendingReply): void {
    if (this.#one === undefined && this.#more === undefined) {
      this.#oneKey = key;
      this.#one = pending;
      return;
    }
    if (this.#more === undefined) {
      this.#more = new Map([[this.#oneKey!, this.#one!]]);
      this.#one = undefined;
      this.#oneKey = undefined;
    }
    this.#more.set(key, pending);
  }

  #find(key: string | number): PendingReply | undefined {
    return this.#oneKey === key ? this.#one : this.#more?.get(key);
  }

  #take(key: string | number): PendingReply | undefined {
    if (this.#oneKey === key) {
      const pending = this.#one;
      this.#one = undefined;
      this.#oneKey = undefined;
      return pending;
    }
    const pending = this.#more?.get(key);
    if (pending) {
      this.#more!.delete(key);
      if (this.#more!.size === 0) this.#more = undefined;
    }
    return pending;
  }
}
