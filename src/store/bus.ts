/**
 * @module store/bus
 * What replicas sharing a store tell each other about sessions (docs/ARCHITECTURE.md, "The record and the cache": the record is the truth,
 * each replica keeps only a cache). A session that ended on one replica (DELETE, expiry swept,
 * admin, cap eviction) must free what every other replica holds for it: a child process, an
 * upstream link, a GET stream. A session whose process-local resources moved to another
 * replica (a stdio child respawned there) must let go of them here, without ending.
 *
 * One process alone needs no bus: the store offers one when it is shared (Redis pub/sub).
 */
import type { JsonObject } from '../protocol/jsonrpc.js';
import type { EndReason } from './record.js';

export type BusMessage =
  /** The session ended; every replica frees what it holds for it. */
  | { kind: 'ended'; id: string; reason: EndReason }
  /**
   * Another replica took the session's process-local resources (its stdio child) with this
   * ownership epoch; replicas holding an older claim let theirs go.
   */
  | { kind: 'moved'; id: string; epoch: number }
  /** The record changed (state, version): drop cached copies. */
  | { kind: 'changed'; id: string };

export interface SessionBus {
  /** Whether messages from other replicas are arriving now (a cache may trust it only then). */
  readonly connected: boolean;
  /** Tells every other replica; never throws (a lost message is bounded by cache expiry). */
  publish(message: BusMessage): void;
  /**
   * Messages from other replicas. `reset` is called when messages may have been lost (the
   * connection dropped): caches must be emptied.
   */
  subscribe(handlers: { message(message: BusMessage): void; reset?(): void }): () => void;
  /**
   * The next ownership epoch of a session's process-local resources: an atomic counter, so of
   * two replicas claiming at once exactly one holds the newest claim.
   */
  claim(id: string): Promise<number>;
  /**
   * Sends on one session's own channel (see SessionChannel). Resolves with how many other
   * replicas listen there: 0 when none does, or when the bus is down (never rejects).
   */
  send(channel: SessionChannel, id: string, payload: JsonObject): Promise<number>;
  /** Listens on one session's channel until the returned function is called; own sends are not heard. */
  listen(channel: SessionChannel, id: string, onPayload: (payload: JsonObject) => void): () => void;
}

/**
 * A session's own channels (issue "replicas": pub/sub per session): `stream` reaches the replica
 * holding the session's GET stream (S6); `holder` reaches the replicas holding its process-local
 * resources (an SDK instance, a stdio child) that may wait for a client's answer.
 */
export type SessionChannel = 'stream' | 'holder';
