/**
 * @module session/undelivered
 * Server-to-client messages of sessions whose GET stream is not open anywhere yet: a
 * `list_changed` sent right after `initialized`, before the client opened its stream, would
 * otherwise be lost, while a direct stdio connection delivers it. They wait here, bounded
 * (docs/limits.md, "Sessions"), and go to the first GET stream the session opens.
 *
 * Bounded three ways, so one session (or many) cannot grow it without limit: messages older
 * than `maxAgeMs` are dropped, a session keeps its newest `perSession`, and past `total`
 * messages across sessions the session that started waiting first loses its queue.
 */
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { Clock } from './clock.js';

export interface UndeliveredLimits {
  /** Messages kept per session (the newest). */
  perSession: number;
  /** How long a message waits before it is dropped. */
  maxAgeMs: number;
  /** Messages kept across all sessions of this process. */
  total: number;
}

export const UNDELIVERED_LIMITS: UndeliveredLimits = { perSession: 32, maxAgeMs: 60_000, total: 10_000 };

interface Waiting {
  at: number;
  message: JsonRpcMessage;
}

export class Undelivered {
  /** In the order sessions started waiting: the first entry is the one to drop past `total`. */
  readonly #queues = new Map<string, Waiting[]>();
  #count = 0;
  readonly #limits: UndeliveredLimits;
  readonly #clock: Clock;
  readonly #onDropped: (id: string) => void;

  /** `onDropped(id)` runs when a session's queue is gone without being taken (too old, or the total was reached). */
  constructor(clock: Clock, onDropped: (id: string) => void, limits: UndeliveredLimits = UNDELIVERED_LIMITS) {
    this.#clock = clock;
    this.#onDropped = onDropped;
    this.#limits = limits;
  }

  /** Messages kept, across sessions (expired ones until they are pruned). */
  get size(): number {
    return this.#count;
  }

  keep(id: string, message: JsonRpcMessage): void {
    let queue = this.#queues.get(id);
    if (!queue) this.#queues.set(id, (queue = []));
    this.#count -= this.#prune(queue);
    queue.push({ at: this.#clock.now(), message });
    this.#count++;
    if (queue.length > this.#limits.perSession) {
      queue.shift();
      this.#count--;
    }
    while (this.#count > this.#limits.total) {
      const [oldest] = this.#queues.keys();
      if (oldest === undefined || oldest === id) break;
      this.#drop(oldest);
      this.#onDropped(oldest);
    }
  }

  /** The session's messages still young enough, oldest first; the queue is emptied. */
  take(id: string): JsonRpcMessage[] {
    const queue = this.#queues.get(id);
    if (!queue) return [];
    this.#count -= this.#prune(queue);
    this.#drop(id);
    return queue.map((waiting) => waiting.message);
  }

  /** Forgets the session's messages (it ended). */
  forget(id: string): void {
    this.#drop(id);
  }

  #drop(id: string): void {
    this.#count -= this.#queues.get(id)?.length ?? 0;
    this.#queues.delete(id);
  }

  /** Removes expired messages from the front; returns how many. */
  #prune(queue: Waiting[]): number {
    const oldestKept = this.#clock.now() - this.#limits.maxAgeMs;
    let expired = 0;
    while (expired < queue.length && queue[expired]!.at < oldestKept) expired++;
    queue.splice(0, expired);
    return expired;
  }
}
