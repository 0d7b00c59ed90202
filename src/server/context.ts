/**
 * @module server/context
 * Builds what the application sees of a request: its session handle and request context.
 * Classes rather than object literals: they are built on every request, and a stable shape
 * with prototype methods is measurably cheaper (see bench/RESULTS.md).
 */
import { CLIENT_SESSION_ID } from '../protocol/headers.js';
import type { JsonObject, JsonRpcMessage } from '../protocol/jsonrpc.js';
import { metaClientSessionId } from '../protocol/jsonrpc.js';
import type { Disposer } from '../session/live-registry.js';
import type { SessionManager } from '../session/session-manager.js';
import type { SessionRecord } from '../store/record.js';
import type { RequestContext, SessionHandle } from './application.js';
import type { Incoming } from './exchange.js';
import { MessageQueue } from './message-queue.js';

class Handle implements SessionHandle {
  readonly #sessions: SessionManager;
  readonly record: SessionRecord;

  constructor(sessions: SessionManager, record: SessionRecord) {
    this.#sessions = sessions;
    this.record = record;
  }

  get id(): string {
    return this.record.id;
  }

  attach(disposer: Disposer): () => void {
    return this.#sessions.live.attach(this.record.id, disposer);
  }

  async setState(state: JsonObject): Promise<void> {
    await this.#sessions.setState(this.record.id, state);
  }

  claim(): Promise<void> {
    return this.#sessions.claim(this.record.id);
  }

  toStream(message: JsonRpcMessage): Promise<boolean> {
    return this.#sessions.relay.toStream(this.record.id, message);
  }

  stream(): AsyncIterable<JsonRpcMessage> {
    let close = (): void => {};
    const queue = new MessageQueue<JsonRpcMessage>(() => close());
    close = this.#sessions.relay.openStream(this.record.id, queue);
    return queue;
  }

  hold(deliver: (message: JsonRpcMessage) => void): () => void {
    return this.#sessions.relay.hold(this.record.id, deliver);
  }

  toHolders(message: JsonRpcMessage): Promise<boolean> {
    return this.#sessions.relay.toHolders(this.record.id, message);
  }
}

export function sessionHandle(sessions: SessionManager, record: SessionRecord): SessionHandle {
  return new Handle(sessions, record);
}

/** The correlation id: the header wins; `_meta.clientSessionId` is the fallback (SEP-2822). */
export function clientSessionIdOf(incoming: Incoming, message: JsonRpcMessage | undefined): string | undefined {
  return incoming.header(CLIENT_SESSION_ID) ?? (message ? metaClientSessionId(message) : undefined);
}

class Context implements RequestContext {
  readonly #incoming: Incoming;
  readonly #signal: AbortSignal | undefined;
  readonly session: SessionHandle | undefined;
  readonly protocolVersion: string;
  readonly principal: string | null;
  readonly clientSessionId: string | undefined;

  constructor(incoming: Incoming, fields: ContextFields, signal: AbortSignal | undefined) {
    this.#incoming = incoming;
    this.#signal = signal;
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

  /** Read lazily: the adapter creates an AbortController only when somebody asks. */
  get signal(): AbortSignal {
    return this.#signal ?? this.#incoming.signal;
  }
}

interface ContextFields {
  session: SessionHandle | undefined;
  protocolVersion: string;
  principal: string | null;
  clientSessionId: string | undefined;
}

/** `signal` overrides the connection's signal (the GET stream ends with its session too). */
export function requestContext(incoming: Incoming, fields: ContextFields, signal?: AbortSignal): RequestContext {
  return new Context(incoming, fields, signal);
}
