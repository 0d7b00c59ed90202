/**
 * @module session/session-relay
 * The messages of one session that must reach whichever replica holds what they are for
 * (issue "replicas": pub/sub per session):
 * - a server-to-client message that answers no request (a list_changed, a request of the
 *   server's own) goes to the session's GET stream (S6), open on this replica or another;
 * - a client's notification, or its answer to a server-to-client request, goes to the replicas
 *   holding the session's process-local resources (the SDK instance or stdio child that asked).
 *
 * Local delivery first, the store's bus (a channel per session) otherwise. One process alone
 * has no bus and needs none.
 *
 * A message for a GET stream that is open nowhere waits, bounded, for the first one the session
 * opens (session/undelivered.ts); the replica keeping it listens for that opening meanwhile. A
 * stream opened elsewhere in the moment that replica starts listening misses it; the client's
 * next GET gets it.
 *
 * One GET stream per session across replicas: a stream opened on another replica takes over and
 * the older one ends (its client has most likely gone without this replica noticing). Messages
 * sent during the moment the new replica subscribes may still go to the older stream.
 */
import { isObject, type JsonObject, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { SessionBus } from '../store/bus.js';
import type { Clock } from './clock.js';
import { Undelivered } from './undelivered.js';

/** Where a session's GET stream takes its messages. */
export interface StreamSink {
  push(message: JsonRpcMessage): void;
  /** The stream is over: the session ended, or a newer stream took over. */
  end(): void;
}

const NOTHING_HELD = (): void => {};

export class SessionRelay {
  readonly #bus: SessionBus | undefined;
  /** The GET streams open on this replica, by session id. */
  readonly #streams = new Map<string, StreamSink>();
  readonly #undelivered: Undelivered;
  /** Sessions with messages waiting here: listening for a stream opened on another replica. */
  readonly #awaitingStream = new Map<string, () => void>();

  constructor(bus: SessionBus | undefined, clock: Clock) {
    this.#bus = bus;
    this.#undelivered = new Undelivered(clock, (id) => this.#stopAwaiting(id));
  }

  /** Messages kept here for sessions with no GET stream open (possibly expired, not yet pruned). */
  get undelivered(): number {
    return this.#undelivered.size;
  }

  /**
   * This replica holds the session's GET stream until the returned function is called (or the
   * sink is ended: session over, taken over elsewhere).
   */
  openStream(id: string, sink: StreamSink): () => void {
    this.#streams.get(id)?.end();
    this.#streams.set(id, sink);
    const unlisten = this.#bus?.listen('stream', id, (payload) => {
      if (payload['kind'] === 'opened') sink.end();
      else if (isObject(payload['message'])) sink.push(payload['message'] as unknown as JsonRpcMessage);
    });
    void this.#bus?.send('stream', id, { kind: 'opened' });
    for (const message of this.#undelivered.take(id)) sink.push(message);
    this.#stopAwaiting(id);
    return () => {
      if (this.#streams.get(id) === sink) this.#streams.delete(id);
      unlisten?.();
    };
  }

  /**
   * Sends a message to the session's GET stream, wherever it is open. False when none is: the
   * message waits for one (bounded, see Undelivered).
   */
  async toStream(id: string, message: JsonRpcMessage): Promise<boolean> {
    if (this.#pushLocally(id, message)) return true;
    if (this.#bus && (await this.#bus.send('stream', id, { kind: 'message', message: message as unknown as JsonObject })) > 0) return true;
    // A stream may have opened here while the bus answered.
    if (this.#pushLocally(id, message)) return true;
    this.#keep(id, message);
    return false;
  }

  #pushLocally(id: string, message: JsonRpcMessage): boolean {
    const local = this.#streams.get(id);
    local?.push(message);
    return local !== undefined;
  }

  #keep(id: string, message: JsonRpcMessage): void {
    this.#undelivered.keep(id, message);
    const bus = this.#bus;
    if (!bus || this.#awaitingStream.has(id)) return;
    const unlisten = bus.listen('stream', id, (payload) => {
      if (payload['kind'] !== 'opened') return;
      const waiting = this.#undelivered.take(id);
      this.#stopAwaiting(id);
      for (const waited of waiting) void bus.send('stream', id, { kind: 'message', message: waited as unknown as JsonObject });
    });
    this.#awaitingStream.set(id, unlisten);
  }

  #stopAwaiting(id: string): void {
    this.#awaitingStream.get(id)?.();
    this.#awaitingStream.delete(id);
  }

  /** Ends the session's GET stream here and forgets what waited for one: the session ended. */
  endStream(id: string): void {
    this.#streams.get(id)?.end();
    this.#undelivered.forget(id);
    this.#stopAwaiting(id);
  }

  /** Ends every GET stream here (shutdown). */
  endAll(): void {
    for (const sink of [...this.#streams.values()]) sink.end();
    for (const id of [...this.#awaitingStream.keys()]) this.#stopAwaiting(id);
  }

  /**
   * This replica holds resources of the session that may be waiting for the client: what other
   * replicas relay with `toHolders` reaches `deliver` until the returned function is called.
   */
  hold(id: string, deliver: (message: JsonRpcMessage) => void): () => void {
    // One process alone: nothing to listen to, nothing kept per session.
    if (!this.#bus) return NOTHING_HELD;
    return this.#bus.listen('holder', id, (payload) => {
      if (isObject(payload['message'])) deliver(payload['message'] as unknown as JsonRpcMessage);
    });
  }

  /** Hands a client message to the other replicas holding the session's resources; false when none does. */
  async toHolders(id: string, message: JsonRpcMessage): Promise<boolean> {
    if (!this.#bus) return false;
    return (await this.#bus.send('holder', id, { message: message as unknown as JsonObject })) > 0;
  }
}
