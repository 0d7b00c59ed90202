/**
 * @module server/application
 * The application side of the session server: what answers MCP messages once the transport
 * rules and the session gate have passed. The official SDK binding and the gateway's upstream
 * forwarder both implement `McpApplication`.
 */
import type { RequestKey } from './request-key.js';
import type { Abortable } from '../protocol/cancellation.js';
import type { JsonRpcMessage, JsonRpcNotification, JsonRpcRequest, JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import type { Disposer } from '../session/live-registry.js';
import type { NewSession } from '../session/session-manager.js';
import type { StateSlot } from '../session/state-slot.js';
import type { SessionRecord } from '../store/record.js';

/**
 * The session a message belongs to, as the application sees it: its id, its record as resolved
 * for this request, and the port. An object that outlives the request keeps the id and the
 * port, not the handle (the handle holds this request's record).
 */
export interface SessionHandle {
  readonly id: string;
  readonly record: SessionRecord;
  readonly port: SessionPort;
}

/**
 * What an application may do to the server's sessions, by id: one object per server, the only
 * way in (the session manager's store, caps and registry stay its own).
 */
export interface SessionPort {
  /** The server's clock (epoch milliseconds). */
  now(): number;
  /** Registers a process-local resource, disposed when the session ends (any reason). */
  attach(sessionId: string, disposer: Disposer): () => void;
  /** Forgets a resource registered with `attach` without disposing it. */
  detach(sessionId: string, disposer: Disposer): void;
  /**
   * The session's resource registered in this process that `match` accepts (an application
   * finds its own per-session object here instead of keeping a second table of them).
   */
  resource(sessionId: string, match: (resource: Disposer) => boolean): Disposer | undefined;
  /**
   * Persists one typed part of the session's state (undefined removes it), alone: writers of
   * other slots are never lost. Survives restarts with a durable store. Read it back with
   * `slot.read(record.state)`.
   */
  writeState<T>(sessionId: string, slot: StateSlot<T>, value: T | undefined): Promise<void>;
  /**
   * Takes the session's process-local resources for this replica: replicas on a shared store
   * that hold older claims free theirs (a stdio child respawned here; the one there is stopped).
   */
  claim(sessionId: string): Promise<void>;
  /**
   * S6: a server-to-client message that answers no request (list_changed, a request of the
   * server's own) to the session's GET stream, open on this replica or another. Resolves false
   * when none is open: the message is dropped, as the SDK's own transport does.
   */
  toStream(sessionId: string, message: JsonRpcMessage): Promise<boolean>;
  /**
   * Opens the session's GET stream on this replica: `toStream` messages from every replica
   * arrive on it. It ends when the session ends or a stream opened on another replica takes
   * over; returning the iterator closes it.
   */
  stream(sessionId: string): AsyncIterable<JsonRpcMessage>;
  /**
   * This replica holds resources of the session that may wait for the client (an SDK instance,
   * a child process that sent a request): client messages other replicas relay with
   * `toHolders` reach `deliver` until the returned function is called.
   */
  hold(sessionId: string, deliver: (message: JsonRpcMessage) => void): () => void;
  /** Hands a client notification or response to the other replicas holding the session's resources; false when none does. */
  toHolders(sessionId: string, message: JsonRpcMessage): Promise<boolean>;
  /**
   * For applications that make sessions of their own (the gateway's conversations for
   * sessionless clients): stores a session under a chosen id unless one exists (then
   * undefined), under the same caps as initialize.
   */
  createOnce(sessionId: string, principal: string | null, init: Omit<NewSession, 'identity'>): Promise<SessionRecord | undefined>;
  /** The live record of a session of `principal`; undefined when there is none (or it is another's). */
  find(sessionId: string, principal: string | null): Promise<SessionRecord | undefined>;
  /** A session id derived from a conversation key: the same on every replica, unguessable (see SessionManager.conversationId). */
  conversationId(principal: string | null, key: string): Promise<string>;
  /** Ends a session as a DELETE would. False when it was not live. */
  end(sessionId: string): Promise<boolean>;
  /**
   * A secret every process using the session store shares, under `name` (made by `create` on
   * first use, then the same for everybody, across restarts with a durable store): for what
   * one replica signs and another checks.
   */
  sharedSecret(name: string, create: () => string): Promise<string>;
}

/**
 * A verified caller: the principal (hashed before a session keeps it) and the verified claims
 * applications may read (the gateway's identity headers and audit trail). Never a credential.
 */
export interface Identity {
  readonly principal: string;
  readonly claims: Readonly<Record<string, unknown>>;
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
  /** The verified caller, when `authenticate` returned an `Identity` (its claims, never a credential). */
  readonly identity: Identity | undefined;
  /** A request header by lower-case name (for applications that forward headers). */
  header(name: string): string | undefined;
  /** Every request header, lower-case names. */
  headers(): Record<string, string | string[] | undefined>;
  /** Aborted when the client's connection closes. */
  readonly signal: AbortSignal;
  /**
   * Aborted when `signal` is, without an EventTarget behind it (protocol/cancellation.ts): the
   * cheap way to listen on the request path. Optional for contexts made outside the server
   * (use `context.cancellation ?? context.signal`).
   */
  readonly cancellation?: Abortable;
  /**
   * A sign of life for a request that sends nothing while it waits (a call waiting for a
   * person): the server's request deadline (`requestTimeoutMs`) counts from now. Optional for
   * contexts made outside the server.
   */
  keepAlive?(): void;
  /**
   * When authentication and the session's look-up ran for this HTTP request, when the server
   * records them (`recordTimings`). Optional for contexts made outside the server.
   */
  readonly timings?: RequestTimings;
  /** A value a stage left on this request (server/request-key.ts), or undefined. */
  get<T>(key: RequestKey<T>): T | undefined;
  /** Leaves a value on this request for the stages around this one. */
  set<T>(key: RequestKey<T>, value: T): void;
}

/** Start and end, as `performance.now()` reads them. */
export type Interval = readonly [start: number, end: number];

/** Work the server did for a request before its application saw it (what trace spans are made of). */
export interface RequestTimings {
  /** `authenticate` (absent without one). */
  authenticated?: Interval;
  /** The session's record found in the store (absent for initialize and sessionless requests). */
  sessionFound?: Interval;
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

/**
 * The reply with its response replaced by `map`'s (a stream's other messages pass unchanged):
 * what a stage that rewrites answers (a filtered or curated list) returns.
 */
export function mapResponse(reply: Reply, map: (response: JsonRpcResponse) => JsonRpcResponse): Reply {
  if (!isStreamReply(reply)) return map(reply);
  return (async function* () {
    for await (const message of reply) yield 'method' in message ? message : map(message);
  })();
}

/** Why a request ended before its answer (server/in-flight.ts). */
export type EarlyEnd = 'timeout' | 'session-ended' | 'shutdown' | 'cancelled';

/** A call whose process died before it answered, as `adopt` gets it (docs/RESUMPTION.md). */
export interface OrphanedCall {
  readonly requestId: RequestId;
  /** The cursor of the last message logged (see `withCursor`). */
  readonly cursor: string;
}

export interface McpApplication {
  /** Answers a request, `initialize` included (it must answer with an InitializeResult). */
  handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply>;
  /**
   * Told when a request it is answering ended before its answer: past the request timeout, its
   * session ended, or the server shut down (the client has had the server's own answer), or
   * the client cancelled it (`notifications/cancelled`, which `receive` gets too). The
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
   * Picks up a call whose process died before it answered, after the last message logged of
   * it, whose cursor the application had tagged (`withCursor`;
   * docs/RESUMPTION.md, "A call whose gateway died"): the rest of its messages, ending with
   * the response. The gateway resumes its upstream's stream there. A stream that ends without
   * the response, or fails, tells the client `SG_REQUEST_LOST`. `context.signal` bounds the
   * work (the request timeout, the server's close).
   */
  adopt?(call: OrphanedCall, context: RequestContext): AsyncIterable<JsonRpcMessage> | undefined;
  /**
   * Called once by the session server with its port, for applications that keep sessions of
   * their own making (the gateway's conversations for sessionless clients).
   */
  bind?(sessions: SessionPort): void;
  /** Frees what the application holds outside sessions (spare processes); called by close(). */
  close?(): Promise<void>;
  /**
   * The application is removed for good while the server runs on (a federation's server left
   * the configuration): what it holds for sessions is ended as a session's end would end it
   * (an upstream session DELETEd), not kept for a restart as `close` keeps it; then it closes.
   */
  retire?(): Promise<void>;
}

/**
 * A class-based application as a plain object of its bound methods. The library's factories
 * (`bindMcpServer`, `httpUpstream`, `stdioUpstream`) return this, so an application they made
 * can still be decorated by spreading it (`{ ...app, handle }`), as before they were classes.
 */
export function plainApplication(app: McpApplication): McpApplication {
  const plain: McpApplication = { handle: app.handle.bind(app), receive: app.receive.bind(app) };
  if (app.cancel) plain.cancel = app.cancel.bind(app);
  if (app.openStream) plain.openStream = app.openStream.bind(app);
  if (app.adopt) plain.adopt = app.adopt.bind(app);
  if (app.retire) plain.retire = app.retire.bind(app);
  if (app.bind) plain.bind = app.bind.bind(app);
  if (app.close) plain.close = app.close.bind(app);
  return plain;
}
