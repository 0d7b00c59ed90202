/**
 * @module client/session-client
 * A small client for code that does not use the SDK (the gateway toward its upstreams): the
 * same session core as the SDK transport, with `connect`, `request`, `notify`, `close`.
 *
 * @example
 * const client = new SessionClient('http://127.0.0.1:8080/mcp');
 * await client.connect({ clientInfo: { name: 'me', version: '1' } });
 * const result = await client.request('tools/call', { name: 'echo', arguments: { text: 'hi' } });
 * await client.close();
 */
import type { Abortable } from '../protocol/cancellation.js';
import type { JsonObject, JsonRpcMessage, JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import { LATEST_HANDSHAKE_REVISION } from '../protocol/revisions.js';
import { SessionClientError } from './errors.js';
import type { SessionClientOptions } from './options.js';
import { SessionFront } from './session-front.js';
import type { SessionSnapshot } from './session-core.js';

export interface ConnectParams {
  clientInfo: { name: string; version: string };
  capabilities?: JsonObject;
  /** Default: the latest handshake-era revision. */
  protocolVersion?: string;
}

export interface StandaloneClientOptions extends SessionClientOptions {
  /** Server-initiated messages (notifications, requests) and anything not answering a request. */
  onMessage?: (message: JsonRpcMessage) => void;
}

/** Takes a message of an exchange's stream and its SSE event id; a promise back pauses the stream. */
type Related = (message: JsonRpcMessage, eventId?: string) => void | Promise<void>;

export class SessionClient extends SessionFront {
  readonly #onMessage: (message: JsonRpcMessage) => void;
  #nextId = 0;

  constructor(url: string | URL, options: StandaloneClientOptions = {}) {
    const onMessage = options.onMessage ?? (() => {});
    super(url, options, options.openStream !== false && options.onMessage !== undefined, onMessage, () => {});
    this.#onMessage = onMessage;
  }

  /** initialize + initialized; returns the InitializeResult. */
  async connect(params: ConnectParams): Promise<JsonObject> {
    const result = await this.request('initialize', {
      protocolVersion: params.protocolVersion ?? LATEST_HANDSHAKE_REVISION,
      capabilities: params.capabilities ?? {},
      clientInfo: params.clientInfo,
    });
    await this.notify('notifications/initialized');
    this.openStream();
    return result;
  }

  /** A request; resolves with its result, rejects with SG_CLIENT_RPC_ERROR for an error answer. */
  async request(method: string, params?: JsonObject): Promise<JsonObject> {
    const id = ++this.#nextId;
    const response = await this.send({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }, id);
    if (!response) throw new SessionClientError('SG_CLIENT_PROTOCOL', 'no response');
    if ('error' in response) {
      throw new SessionClientError('SG_CLIENT_RPC_ERROR', response.error.message, {
        rpc: { code: response.error.code, data: response.error.data },
      });
    }
    return response.result;
  }

  async notify(method: string, params?: JsonObject): Promise<void> {
    await this.send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
  }

  /**
   * Any message (e.g. the answer to a server-to-client request); resolves with the response to
   * a request. Messages that arrive on this exchange's stream before the response (progress, a
   * server-to-client request) go to `onRelated` when given (with their SSE event id, when they
   * had one), else to `onMessage`; a promise from `onRelated` pauses the exchange's stream until
   * it settles (backpressure). When `signal` aborts, the exchange is abandoned (its connection
   * closed) and the call rejects.
   */
  async send(
    message: JsonRpcMessage,
    requestId?: RequestId,
    onRelated?: Related,
    signal?: Abortable,
  ): Promise<JsonRpcResponse | undefined> {
    if (this.closed) throw new SessionClientError('SG_CLIENT_CLOSED');
    return this.core.exchange(message, this.#relatedOnly(requestId, onRelated), signal);
  }

  /**
   * Picks up a call sent by another process on this session (a gateway restarted while its
   * upstream answered): the call's stream after `lastEventId` (an event id `onRelated` was
   * given), its messages to `onRelated` as for `send`; resolves with its response.
   */
  async resumeCall(requestId: RequestId, lastEventId: string, onRelated?: Related, signal?: Abortable): Promise<JsonRpcResponse> {
    if (this.closed) throw new SessionClientError('SG_CLIENT_CLOSED');
    return this.core.resumeCall(requestId, lastEventId, this.#relatedOnly(requestId, onRelated), signal);
  }

  #relatedOnly(requestId: RequestId | undefined, onRelated: Related | undefined): Related {
    const related = onRelated ?? this.#onMessage;
    return (inbound, eventId) => {
      const answersUs = requestId !== undefined && !('method' in inbound) && inbound.id === requestId;
      return answersUs ? undefined : related(inbound, eventId);
    };
  }

  /** Opens the GET stream (after a handshake done with `send`, as a gateway does). */
  listen(): void {
    this.openStream();
  }

  /** Closes the GET stream; it stays closed across recoveries until `listen` again. */
  unlisten(): void {
    this.closeStream();
  }

  /** The state to store so another process can `resume` this session. */
  snapshot(): SessionSnapshot | undefined {
    return this.core.snapshot();
  }

  /**
   * Continues a stored session instead of `connect`, then opens the GET stream if asked (unless
   * `listen` is false: a gateway opens it only while its own client listens).
   */
  resume(snapshot: SessionSnapshot, options: { listen?: boolean } = {}): void {
    this.core.adopt(snapshot);
    if (options.listen !== false) this.openStream();
  }

  /**
   * Lets go of the session without ending it (no DELETE): for a process that stops while the
   * session lives on elsewhere (a gateway shutting down on a durable store).
   */
  release(): void {
    this.closed = true;
    this.closeStream();
  }

  /** C5: DELETE the session (bounded), stop the GET stream. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.end();
  }
}
