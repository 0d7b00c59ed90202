/**
 * @module server/sdk/bound-instance
 * One session's SDK instance on this replica: the user's server, the transport connecting it,
 * its `session.state`, and how it ends. Built by the binding (sdk-binding.ts). An idle session
 * keeps this as long as it lives, so it is one object with methods, keeps no closure (it is
 * its own disposer in the live registry) and no request's record (the session's id and port,
 * not a handle).
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { SessiongateError } from '../../protocol/failures.js';
import type { JsonObject, JsonRpcMessage, JsonValue } from '../../protocol/jsonrpc.js';
import type { SessionHandle, SessionPort } from '../application.js';
import { SessionState, type StateWriter } from './session-state.js';
import { jsonSlot, type StateSlot } from '../../session/state-slot.js';
import { SessionTransport, type TransportOwner } from './session-transport.js';

/** What the binding needs of an SDK server: `McpServer` and `Server` both fit. */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** The binding, as its instances see it (one object for all of them). */
export interface InstanceOwner {
  /** The instance ended (any reason, also closing itself): the binding lets go of it. */
  forget(instance: BoundInstance): void;
  onError(error: unknown): void;
}

/** Sweeps (every half instanceIdleTimeoutMs) an unused instance stays: between 1x and 1.5x the timeout. */
const IDLE_SWEEPS = 3;

export class BoundInstance implements TransportOwner, StateWriter {
  readonly id: string;
  readonly #port: SessionPort;
  readonly transport: SessionTransport;
  /** `session.state` once somebody asked for it; until then the stored state it starts from. */
  #state: SessionState | JsonObject;
  #server: ConnectableServer | undefined;
  #phase: 'building' | 'ready' | 'ended' = 'building';
  /** Idle sweeps passed since the instance was last used. */
  #unusedSweeps = 0;
  readonly #release: () => void;
  /** The binding this instance belongs to. */
  readonly owner: InstanceOwner;

  /**
   * Registers itself as the session's resource at once (the binding finds it there, and a
   * session that ends while the instance is being built disposes it).
   */
  constructor(session: SessionHandle, owner: InstanceOwner) {
    this.id = session.id;
    this.owner = owner;
    this.#port = session.port;
    this.#state = session.record.state;
    this.transport = new SessionTransport(this);
    // A client's answer to this instance's request may land on another replica: relayed here.
    this.#release = this.#port.hold(this.id, (message) => this.transport.deliver(message, {}));
    this.#port.attach(this.id, this);
  }

  /** Built, connected and (if rebuilt) replayed: requests may go in. */
  get ready(): boolean {
    return this.#phase === 'ready';
  }

  get ended(): boolean {
    return this.#phase === 'ended';
  }

  markReady(): void {
    if (this.#phase === 'building') this.#phase = 'ready';
  }

  /** `session.state`, made on first use (a server that never uses it keeps none). */
  get state(): SessionState {
    const state = this.#state;
    if (state instanceof SessionState) return state;
    return (this.#state = new SessionState(state, this));
  }

  /** The binding's own value under a reserved state key, without making the state view. */
  reserved<T>(slot: StateSlot<T>): T | undefined {
    const state = this.#state;
    return state instanceof SessionState ? state.reserved(slot) : slot.read(state);
  }

  /** Marks the instance used by a request of `session` (whose record is the store's newest). */
  use(session: SessionHandle): void {
    this.#unusedSweeps = 0;
    if (this.#state instanceof SessionState) this.#state.refresh(session.record.state);
    else this.#state = session.record.state;
  }

  writeState(key: string, value: JsonValue | undefined): Promise<void> {
    return this.#port.writeState(this.id, jsonSlot(key), value);
  }

  toStream(message: JsonRpcMessage): void {
    void this.#port.toStream(this.id, message).catch((error: unknown) => this.owner.onError(error));
  }

  /**
   * One idle sweep (instanceIdleTimeoutMs): an instance in use (`busy`) starts counting again;
   * one unused for IDLE_SWEEPS sweeps in a row is closed. The session lives on.
   */
  sweep(busy: boolean): void {
    if (this.#phase !== 'ready') return;
    if (busy) this.#unusedSweeps = 0;
    else if (++this.#unusedSweeps >= IDLE_SWEEPS) void this.end();
  }

  /** The session ended (any reason): the live registry disposes its resources. */
  dispose(): Promise<void> {
    return this.end();
  }

  /**
   * Takes the server the factory built and connects it. If the session ended meanwhile, the
   * server is closed at once and this rejects (the session is gone).
   */
  async connect(server: ConnectableServer): Promise<void> {
    this.#server = server;
    if (!this.ended) await server.connect(this.transport);
    if (this.ended) {
      await this.#closeServer();
      throw new SessiongateError('SG_SESSION_NOT_FOUND');
    }
  }

  transportClosed(): void {
    // The instance closed itself: ended here too, the next request builds a new one.
    void this.end();
  }

  /**
   * Ends the instance: the session ended (any reason), it was idle too long, or building it
   * failed. The user's server is closed always, and the transport even when that throws.
   */
  async end(): Promise<void> {
    if (this.#phase === 'ended') return;
    this.#phase = 'ended';
    this.owner.forget(this);
    this.#port.detach(this.id, this);
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
      this.owner.onError(error);
    }
  }
}
