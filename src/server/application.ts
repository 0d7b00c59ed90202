/**
 * @module server/application
 * The application side of the session server: what answers MCP messages once the transport
 * rules and the session gate have passed. The official SDK binding and the gateway's upstream
 * forwarder both implement `McpApplication`.
 */
import type { JsonObject, JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { Disposer } from '../session/live-registry.js';
import type { SessionManager } from '../session/session-manager.js';
import type { SessionRecord } from '../store/record.js';

/** The session a message belongs to, as the application sees it. */
export interface SessionHandle {
  readonly id: string;
  /** The record as resolved for this request. */
  readonly record: SessionRecord;
  /**
   * The same operations for any session of this server, by id (one object per server). An
   * object that outlives the request keeps the id and the port, not the handle: the handle
   * holds this request's record.
   */
  readonly port: SessionPort;
  /** Registers a process-local resource, disposed when the session ends (any reason). */
  attach(disposer: Disposer): () => void;
  /** Persists small JSON per session; survives restarts with a durable store. */
  setState(state: JsonObject): Promise<void>;
  /**
   * Takes the session's process-local resources for this replica: replicas on a shared store
   * that hold older claims free theirs (a stdio child respawned here; the one there is stopped).
   */
  claim(): Promise<void>;
  /**
   * S6: a server-to-client message that answers no request (list_changed, a request of the
   * server's own) to the session's GET stream, open on this replica or another. Resolves false
   * when none is open: the message is dropped, as the SDK's own transport does.
   */
  toStream(message: JsonRpcMessage): Promise<boolean>;
  /**
   * Opens the session's GET stream on this replica: `toStream` messages from every replica
   * arrive on it. It ends when the session ends or a stream opened on another replica takes
   * over; returning the iterator closes it.
   */
  stream(): AsyncIterable<JsonRpcMessage>;
  /**
   * This replica holds resources of the session that may wait for the client (an SDK instance,
   * a child process that sent a request): client messages other replicas relay with
   * `toHolders` reach `deliver` until the returned function is called.
   */
  hold(deliver: (message: JsonRpcMessage) => void): () => void;
  /** Hands a client notification or response to the other replicas holding the session's resources; false when none does. */
  toHolders(message: JsonRpcMessage): Promise<boolean>;
}

/** `SessionHandle`'s operations by session id, for objects that outlive a request. */
export interface SessionPort {
  attach(sessionId: string, disposer: Disposer): () => void;
  /** Forgets a resource registered with `attach` without disposing it. */
  detach(sessionId: string, disposer: Disposer): void;
  /**
   * The session's resource registered in this process that `match` accepts (an application
   * finds its own per-session object here instead of keeping a second table of them).
   */
  resource(sessionId: string, match: (resource: Disposer) => boolean): Disposer | undefined;
  setState(sessionId: string, state: JsonObject): Promise<void>;
  claim(sessionId: string): Promise<void>;
  toStream(sessionId: string, message: JsonRpcMessage): Promise<boolean>;
  stream(sessionId: string): AsyncIterable<JsonRpcMessage>;
  hold(sessionId: string, deliver: (message: JsonRpcMessage) => void): () => void;
  toHolders(sessionId: string, message: JsonRpcMessage): Promise<boolean>;
}

export interface RequestContext {
  /** Undefined for 2026-07-28 sessionless traffic, which never gets a session. */
  readonly session: SessionHandle | undefined;
  /** The protocol revision in force for this message. */
  readonly protocolVersion: string;
  /** The keyed hash of the caller's identity, or null when anonymous. */
  readonly principal: string | null;
  /** `Mcp-Client-Session-Id` (or `_meta.clientSessionId`) when the client sent one. */
  readonly clientSessionId: string | undefined;
  /** A request header by lower-case name (for applications that forward headers). */
  header(name: string): string | undefined;
  /** Every request header, lower-case names. */
  headers(): Record<string, string | string[] | undefined>;
  /** Aborted when the client's connection closes. */
  readonly signal: AbortSignal;
}

/**
 * A reply to a request: the response itself (sent as `application/json`), or a stream of
 * messages (sent as SSE) that ends after the response. S12: the stream must not end before the
 * response has been sent.
 */
export type Reply = JsonRpcResponse | AsyncIterable<JsonRpcMessage>;

export function isStreamReply(reply: Reply): reply is AsyncIterable<JsonRpcMessage> {
  return typeof (reply as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function';
}

/** The response a reply carries (read through a stream, dropping what comes before it). */
export async function responseOf(reply: Reply): Promise<JsonRpcResponse> {
  if (!isStreamReply(reply)) return reply;
  for await (const message of reply) if (!('method' in message)) return message;
  throw new Error('sessiongate: a stream ended without the response');
}

/** Why a request ended before its answer (server/in-flight.ts). */
export type EarlyEnd = 'timeout' | 'session-ended' | 'shutdown';

export interface McpApplication {
  /** Answers a request, `initialize` included (it must answer with an InitializeResult). */
  handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply>;
  /**
   * Told when a request it is answering ended before its answer: past the request timeout, its
   * session ended, or the server shut down (the client has had the server's own answer). The
   * cheap alternative to listening on `context.signal`, which also aborts when the client leaves.
   */
  cancel?(request: JsonRpcRequest, context: RequestContext, reason: EarlyEnd): void;
  /** Takes a notification or a response (to a server-to-client request). S7: answered 202. */
  receive(message: JsonRpcNotification | JsonRpcResponse, context: RequestContext): void | Promise<void>;
  /**
   * S6: a source of its own for the session's GET stream (an upstream's stream opened for this
   * client), merged with what `session.toStream` sends; undefined when there is none. The
   * iterator is returned (closed) when the client disconnects or the stream ends.
   */
  openStream?(context: RequestContext): AsyncIterable<JsonRpcMessage> | undefined;
  /**
   * Called once by the session server with its SessionManager, for applications that keep
   * sessions of their own making (the gateway's conversations for sessionless clients).
   */
  bind?(sessions: SessionManager): void;
  /** Frees what the application holds outside sessions (spare processes); called by close(). */
  close?(): Promise<void>;
}
