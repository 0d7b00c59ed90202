/**
 * @module server/context
 * Builds what the application sees of a request: its session handle and request context.
 * Classes rather than object literals: they are built on every request, and a stable shape
 * with prototype methods is measurably cheaper (see bench/RESULTS.md).
 */
import { CLIENT_SESSION_ID, isValidClientSessionId } from '../protocol/headers.js';
import { SessiongateError } from '../protocol/failures.js';
import type { JsonObject, JsonRpcMessage } from '../protocol/jsonrpc.js';
import { metaClientSessionId } from '../protocol/jsonrpc.js';
import type { Disposer } from '../session/live-registry.js';
import type { SessionManager } from '../session/session-manager.js';
import type { SessionRecord } from '../store/record.js';
import type { RequestContext, SessionHandle, SessionPort } from './application.js';
import type { Incoming } from './exchange.js';
import { MessageQueue, streamBound } from './message-queue.js';
import { sessionTag } from '../session/id.js';

/** A server's sessions by id, for applications (`SessionHandle.port`): one per manager. */
class Port implements SessionPort {
  readonly #sessions: SessionManager;

  constructor(sessions: SessionManager) {
    this.#sessions = sessions;
  }

  attach(sessionId: string, disposer: Disposer): () => void {
    return this.#sessions.live.attach(sessionId, disposer);
  }

  detach(sessionId: string, disposer: Disposer): void {
    this.#sessions.live.detach(sessionId, disposer);
  }

  resource(sessionId: string, match: (resource: Disposer) => boolean): Disposer | undefined {
    return this.#sessions.live.find(sessionId, match);
  }

  async setState(sessionId: string, state: JsonObject): Promise<void> {
    await this.#sessions.setState(sessionId, state);
  }

  claim(sessionId: string): Promise<void> {
    return this.#sessions.claim(sessionId);
  }

  toStream(sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    return this.#sessions.relay.toStream(sessionId, message);
  }

  stream(sessionId: string): AsyncIterable<JsonRpcMessage> {
    let close = (): void => {};
    const queue = new MessageQueue<JsonRpcMessage>(
      () => close(),
      streamBound(() => this.#sessions.report(slowReader(sessionId))),
    );
    close = this.#sessions.relay.openStream(sessionId, queue);
    return queue;
  }

  hold(sessionId: string, deliver: (message: JsonRpcMessage) => void): () => void {
    return this.#sessions.relay.hold(sessionId, deliver);
  }

  toHolders(sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    return this.#sessions.relay.toHolders(sessionId, message);
  }
}

/** Why a GET stream was ended for its reader (docs/limits.md, "Streams"). */
export function slowReader(sessionId: string): Error {
  return new Error(
    `sessiongate: the GET stream of session ${sessionTag(sessionId)} was ended: more than 8 MiB waited unread (its client reads too slowly)`,
  );
}

const ports = new WeakMap<SessionManager, Port>();

function portOf(sessions: SessionManager): Port {
  let port = ports.get(sessions);
  if (!port) ports.set(sessions, (port = new Port(sessions)));
  return port;
}

/** One request's view of its session: the record as resolved for it, and the port by its id. */
class Handle implements SessionHandle {
  readonly port: SessionPort;
  readonly record: SessionRecord;

  constructor(port: SessionPort, record: SessionRecord) {
    this.port = port;
    this.record = record;
  }

  get id(): string {
    return this.record.id;
  }

  attach(disposer: Disposer): () => void {
    return this.port.attach(this.record.id, disposer);
  }

  setState(state: JsonObject): Promise<void> {
    return this.port.setState(this.record.id, state);
  }

  claim(): Promise<void> {
    return this.port.claim(this.record.id);
  }

  toStream(message: JsonRpcMessage): Promise<boolean> {
    return this.port.toStream(this.record.id, message);
  }

  stream(): AsyncIterable<JsonRpcMessage> {
    return this.port.stream(this.record.id);
  }

  hold(deliver: (message: JsonRpcMessage) => void): () => void {
    return this.port.hold(this.record.id, deliver);
  }

  toHolders(message: JsonRpcMessage): Promise<boolean> {
    return this.port.toHolders(this.record.id, message);
  }
}

export function sessionHandle(sessions: SessionManager, record: SessionRecord): SessionHandle {
  return new Handle(portOf(sessions), record);
}

/** The correlation id: the header wins; `_meta.clientSessionId` is the fallback (SEP-2822). */
export function clientSessionIdOf(incoming: Incoming, message: JsonRpcMessage | undefined): string | undefined {
  const id = incoming.header(CLIENT_SESSION_ID) ?? (message ? metaClientSessionId(message) : undefined);
  if (id !== undefined && !isValidClientSessionId(id)) throw new SessiongateError('SG_INVALID_CLIENT_SESSION_ID');
  return id;
}

/** What gives the request's signal when first asked: the exchange, or the request's flight (server/in-flight.ts). */
type SignalSource = { readonly signal: AbortSignal };

class Context implements RequestContext {
  readonly #incoming: Incoming;
  #signalSource: SignalSource;
  readonly session: SessionHandle | undefined;
  readonly protocolVersion: string;
  readonly principal: string | null;
  readonly clientSessionId: string | undefined;

  constructor(incoming: Incoming, fields: ContextFields, signalSource: SignalSource) {
    this.#incoming = incoming;
    this.#signalSource = signalSource;
    this.session = fields.session;
    this.protocolVersion = fields.protocolVersion;
    this.principal = fields.principal;
    this.clientSessionId = fields.clientSessionId;
  }

  header(name: string): string | undefined {
    return this.#incoming.header(name);
  }

  headers(): Record<string, string | string[] | undefined> {
    return this.#incoming.headers();
  }

  /** Read lazily: the adapter (or the flight) creates an AbortController only when somebody asks. */
  get signal(): AbortSignal {
    return this.#signalSource.signal;
  }

  /** This context, or a copy when `shared` (a batch), whose signal comes from `source`. */
  withSignal(source: SignalSource, shared: boolean): Context {
    if (shared) return new Context(this.#incoming, this, source);
    this.#signalSource = source;
    return this;
  }
}

/**
 * `context` whose `signal` is its flight's (server/in-flight.ts: aborted when the request ends
 * early). The context itself when it serves one request, else (`shared`, a batch) a copy.
 */
export function withSignal(context: RequestContext, source: SignalSource, shared = false): RequestContext {
  return context instanceof Context ? context.withSignal(source, shared) : context;
}

interface ContextFields {
  session: SessionHandle | undefined;
  protocolVersion: string;
  principal: string | null;
  clientSessionId: string | undefined;
}

/** The context of a request; its signal is the exchange's until a flight takes it over (withSignal). */
export function requestContext(incoming: Incoming, fields: ContextFields): RequestContext {
  return new Context(incoming, fields, incoming);
}
