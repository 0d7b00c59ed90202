/**
 * @module server/sdk/bound-instance
 * One session's SDK instance on this replica: the user's server, the transport connecting it,
 * its `session.state`, and how it ends. Built by the binding (sdk-binding.ts); one object with
 * methods rather than a handful of closures, since an idle session keeps it as long as it lives.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { SessiongateError } from '../../protocol/failures.js';
import type { JsonObject, JsonRpcMessage } from '../../protocol/jsonrpc.js';
import type { SessionHandle } from '../application.js';
import { SessionState, type StateWriter } from './session-state.js';
import { SessionTransport, type TransportOwner } from './session-transport.js';

/** What the binding needs of an SDK server: `McpServer` and `Server` both fit. */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

export class BoundInstance implements TransportOwner, StateWriter {
  /** The handle of the latest request: its record is the store's current one. */
  session: SessionHandle;
  readonly transport: SessionTransport;
  readonly state: SessionState;
  #server: ConnectableServer | undefined;
  /** Used since the last idle sweep (instanceIdleTimeout). */
  used = true;
  /** Idle sweeps passed unused and evictable. */
  idleSweeps = 0;
  #ended = false;
  readonly #release: () => void;
  readonly #detach: () => void;
  readonly #forget: (instance: BoundInstance) => void;
  readonly #onError: (error: unknown) => void;

  /** `forget` drops the instance from the binding's tables (it ended, or closed itself). */
  constructor(session: SessionHandle, forget: (instance: BoundInstance) => void, onError: (error: unknown) => void) {
    this.session = session;
    this.#forget = forget;
    this.#onError = onError;
    this.state = new SessionState(session.record.state, this);
    this.transport = new SessionTransport(session.id, this);
    // A client's answer to this instance's request may land on another replica: relayed here.
    this.#release = session.hold((message) => this.transport.deliver(message, {}));
    this.#detach = session.attach(() => this.end());
  }

  get id(): string {
    return this.transport.sessionId;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Marks the instance used by a request of `session` (the newest handle is kept). */
  use(session: SessionHandle): void {
    this.session = session;
    this.used = true;
    this.state.refresh(session.record.state);
  }

  toStream(message: JsonRpcMessage): void {
    void this.session.toStream(message).catch(this.#onError);
  }

  setState(state: JsonObject): Promise<void> {
    return this.session.setState(state);
  }

  /**
   * Takes the server the factory built and connects it. If the session ended meanwhile, the
   * server is closed at once and this rejects (the session is gone).
   */
  async connect(server: ConnectableServer): Promise<void> {
    this.#server = server;
    if (!this.#ended) await server.connect(this.transport);
    if (this.#ended) {
      await this.#closeServer();
      throw new SessiongateError('SG_SESSION_NOT_FOUND');
    }
  }

  transportClosed(): void {
    // The instance closed itself: forgotten, the next request builds a new one.
    if (!this.#ended) this.#forget(this);
  }

  /**
   * Ends the instance: the session ended (any reason), it was idle too long, or building it
   * failed. The user's server is closed always, and the transport even when that throws.
   */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#forget(this);
    this.#detach();
    try {
      await this.#closeServer();
    } finally {
      this.#release();
      await this.transport.close();
    }
  }

  /** Closes the user's server once, whoever asks first; its errors go to onError. */
  async #closeServer(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    try {
      await server?.close();
    } catch (error) {
      this.#onError(error);
    }
  }
}
