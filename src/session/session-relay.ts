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
 * One GET stream per session across replicas: a stream opened on another replica takes over and
 * the older one ends (its client has most likely gone without this replica noticing). Messages
 * sent during the moment the new replica subscribes may still go to the older stream.
 */
import { isObject, type JsonObject, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { SessionBus } from '../store/bus.js';

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

  constructor(bus: SessionBus | undefined) {
    this.#bus = bus;
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
    return () => {
      if (this.#streams.get(id) === sink) this.#streams.delete(id);
      unlisten?.();
    };
  }

  /**
   * Sends a message to the session's GET stream, wherever it is open. False when none is: the
   * message is dropped, as the SDK's own transport does.
   */
  async toStream(id: string, message: JsonRpcMessage): Promise<boolean> {
    const local = this.#streams.get(id);
    if (local) {
      local.push(message);
      return true;
    }
    if (!this.#bus) return false;
    return (await this.#bus.send('stream', id, { kind: 'message', message: message as unknown as JsonObject })) > 0;
  }

  /** Ends the session's GET stream here: the session ended. */
  endStream(id: string): void {
    this.#streams.get(id)?.end();
  }

  /** Ends every GET stream here (shutdown). */
  endAll(): void {
    for (const sink of [...this.#streams.values()]) sink.end();
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
