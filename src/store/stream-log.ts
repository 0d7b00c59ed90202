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
  /** The number of the last event written (0: none yet). */
  readonly lastSeq: number;
  /**
   * Where the application can pick the stream up after its writer died (opaque: for the
   * gateway, its upstream's event id of the last event written); absent when it cannot.
   */
  readonly cursor?: string | undefined;
}

export interface StreamPage {
  readonly head: StreamHead;
  /** Events after the asked number, oldest first. */
  readonly events: LoggedEvent[];
}

/** One batch of a stream, written as one step. */
export interface StreamWrite {
  readonly sessionId: string;
  readonly streamId: string;
  readonly head: StreamHead;
  /** Numbered above any event kept. */
  readonly events: readonly LoggedEvent[];
  /** The stream is kept until then (epoch ms). */
  readonly keepUntil: number;
  /** Past this many events, the oldest are dropped. */
  readonly maxEvents: number;
}

export interface StreamLog {
  /** Appends the batch's events to the stream and sets its head, as one step. */
  write(batch: StreamWrite): Promise<void>;
  /** At most `limit` events after `afterSeq`, or undefined when the session has no such stream (kept). */
  read(sessionId: string, streamId: string, afterSeq: number, limit: number, now: number): Promise<StreamPage | undefined>;
  /**
   * Makes `owner` the stream's writer if `from` still is (one step): of the readers finding a
   * dead writer, one takes its stream over. False when the head names another (or is gone).
   */
  claim(sessionId: string, streamId: string, from: string, owner: string): Promise<boolean>;
  /** Forgets every stream of the session (it ended). */
  drop(sessionId: string): Promise<void>;
  /** Forgets streams kept past their `keepUntil` (stores without expiry of their own). */
  sweep(now: number): Promise<void>;
  /** The writer `owner` is alive until `aliveUntil` (0: it stopped). */
  heartbeat(owner: string, aliveUntil: number, now: number): Promise<void>;
  /** Until when `owner` said it is alive; 0 if it never did or stopped. */
  aliveUntil(owner: string): Promise<number>;
}
