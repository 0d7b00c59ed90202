/**
 * @module store/stream-log
 * The event log behind resumable SSE streams (docs/RESUMPTION.md): what one stream of a
 * session sent, kept so a client can resume it with `Last-Event-ID` after a restart or on
 * another replica. Each stream has one writer (the process running its request), which
 * numbers the events itself; the log only keeps, trims and reads them.
 */
import type { RequestId } from '../protocol/jsonrpc.js';

/** One event of a stream: its number (from 1, increasing) and its data (a JSON-RPC message, serialized). */
export interface LoggedEvent {
  readonly seq: number;
  readonly data: string;
}

/** What a reader must know about a stream beside its events. */
export interface StreamHead {
  /** The request the stream answers (null for a session's GET stream, or a batch). */
  readonly requestId: RequestId | null;
  /** The process writing it (its run id; see `heartbeat`). */
  readonly owner: string;
  /** The writer is done: no event will follow. */
  readonly done: boolean;
}

export interface StreamPage {
  readonly head: StreamHead;
  /** Events after the asked number, oldest first. */
  readonly events: LoggedEvent[];
}

export interface StreamLog {
  /**
   * Appends `events` (numbers above any kept) to the stream and sets its head, as one step.
   * The stream is kept until `keepUntil`; past `maxEvents` the oldest events are dropped.
   */
  write(
    sessionId: string,
    streamId: string,
    head: StreamHead,
    events: readonly LoggedEvent[],
    keepUntil: number,
    maxEvents: number,
  ): Promise<void>;
  /** At most `limit` events after `afterSeq`, or undefined when the session has no such stream (kept). */
  read(sessionId: string, streamId: string, afterSeq: number, limit: number, now: number): Promise<StreamPage | undefined>;
  /** Forgets every stream of the session (it ended). */
  drop(sessionId: string): Promise<void>;
  /** Forgets streams kept past their `keepUntil` (stores without expiry of their own). */
  sweep(now: number): Promise<void>;
  /** The writer `owner` is alive until `aliveUntil` (0: it stopped). */
  heartbeat(owner: string, aliveUntil: number, now: number): Promise<void>;
  /** Until when `owner` said it is alive; 0 if it never did or stopped. */
  aliveUntil(owner: string): Promise<number>;
}
