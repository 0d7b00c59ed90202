/**
 * @module server/context
 * Builds what the application sees of a request: its session handle and request context.
 * Classes rather than object literals: they are built on every request, and a stable shape
 * with prototype methods is measurably cheaper (see bench/RESULTS.md).
 */
import type { Abortable } from '../protocol/cancellation.js';
import { CLIENT_SESSION_ID, isValidClientSessionId } from '../protocol/headers.js';
import { SessiongateError } from '../protocol/failures.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { metaClientSessionId } from '../protocol/jsonrpc.js';
import type { SessionManager } from '../session/session-manager.js';
import type { SessionRecord } from '../store/record.js';
import type { Identity, RequestContext, RequestTimings, SessionHandle, SessionPort } from './application.js';
import type { Incoming } from './exchange.js';
import { portOf } from './session-port.js';
import type { RequestKey } from './request-key.js';

/** One request's view of its session: the record as resolved for it, and the port. */
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
type SignalSource = { readonly signal: AbortSignal; readonly cancellation?: Abortable; keepAlive?(): void };

class Context implements RequestContext {
  readonly #incoming: Incoming;
  #signalSource: SignalSource;
  /** What stages left on this request: no map until one is set (most requests carry none). */
  #values: Map<RequestKey<unknown>, unknown> | undefined;
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

  get identity(): Identity | undefined {
    return this.#incoming.identity;
  }

  get timings(): RequestTimings | undefined {
    return this.#incoming.timings;
  }

  /** Read lazily: the adapter (or the flight) creates an AbortController only when somebody asks. */
  get signal(): AbortSignal {
    return this.#signalSource.signal;
  }

  /** The flight's light stand-in for `signal`; before a flight takes the context over, the exchange's signal. */
  get cancellation(): Abortable {
    return this.#signalSource.cancellation ?? this.#signalSource.signal;
  }

  keepAlive(): void {
    this.#signalSource.keepAlive?.();
  }

  get<T>(key: RequestKey<T>): T | undefined {
    return this.#values?.get(key) as T | undefined;
  }

  set<T>(key: RequestKey<T>, value: T): void {
    (this.#values ??= new Map()).set(key, value);
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
