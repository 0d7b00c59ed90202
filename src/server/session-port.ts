/**
 * @module server/session-port
 * The port applications get (`SessionHandle.port`, `McpApplication.bind`): what they may do to
 * the server's sessions, by id, and nothing of the manager's store, caps or registry. One per
 * manager.
 */
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { sessionTag } from '../session/id.js';
import type { Disposer } from '../session/live-registry.js';
import type { NewSession, SessionManager } from '../session/session-manager.js';
import type { StateSlot } from '../session/state-slot.js';
import type { SessionRecord } from '../store/record.js';
import type { SessionPort } from './application.js';
import { MessageQueue, streamBound } from './message-queue.js';

class Port implements SessionPort {
  readonly #sessions: SessionManager;

  constructor(sessions: SessionManager) {
    this.#sessions = sessions;
  }

  now(): number {
    return this.#sessions.now();
  }

  attach(sessionId: string, disposer: Disposer): () => void {
    return this.#sessions.attach(sessionId, disposer);
  }

  detach(sessionId: string, disposer: Disposer): void {
    this.#sessions.detach(sessionId, disposer);
  }

  resource(sessionId: string, match: (resource: Disposer) => boolean): Disposer | undefined {
    return this.#sessions.resource(sessionId, match);
  }

  async writeState<T>(sessionId: string, slot: StateSlot<T>, value: T | undefined): Promise<void> {
    await this.#sessions.writeState(sessionId, slot.key, slot.encode(value));
  }

  claim(sessionId: string): Promise<void> {
    return this.#sessions.claim(sessionId);
  }

  sharedSecret(name: string, create: () => string): Promise<string> {
    return this.#sessions.sharedSecret(`application:${name}`, create);
  }

  toStream(sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    return this.#sessions.toStream(sessionId, message);
  }

  stream(sessionId: string): AsyncIterable<JsonRpcMessage> {
    let close = (): void => {};
    const queue = new MessageQueue<JsonRpcMessage>(
      () => close(),
      streamBound(() => this.#sessions.report(slowReader(sessionId))),
    );
    close = this.#sessions.openStream(sessionId, queue);
    return queue;
  }

  hold(sessionId: string, deliver: (message: JsonRpcMessage) => void): () => void {
    return this.#sessions.hold(sessionId, deliver);
  }

  toHolders(sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    return this.#sessions.toHolders(sessionId, message);
  }

  createOnce(sessionId: string, principal: string | null, init: Omit<NewSession, 'identity'>): Promise<SessionRecord | undefined> {
    return this.#sessions.createOnce(sessionId, principal, init);
  }

  find(sessionId: string, principal: string | null): Promise<SessionRecord | undefined> {
    return this.#sessions.resolveFor(sessionId, principal).catch(() => undefined);
  }

  conversationId(principal: string | null, key: string): Promise<string> {
    return this.#sessions.conversationId(principal, key);
  }

  end(sessionId: string): Promise<boolean> {
    return this.#sessions.end(sessionId, 'delete');
  }
}

/** Why a GET stream was ended for its reader (docs/limits.md, "Streams"). */
export function slowReader(sessionId: string): Error {
  return new Error(
    `sessiongate: the GET stream of session ${sessionTag(sessionId)} was ended: more than 8 MiB waited unread (its client reads too slowly)`,
  );
}

const ports = new WeakMap<SessionManager, Port>();

/** The port of a manager's sessions (one per manager). */
export function portOf(sessions: SessionManager): SessionPort {
  let port = ports.get(sessions);
  if (!port) ports.set(sessions, (port = new Port(sessions)));
  return port;
}
