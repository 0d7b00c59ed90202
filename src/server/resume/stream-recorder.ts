/**
 * @module server/resume/stream-recorder
 * Writes this process's SSE streams to the store's event log (docs/RESUMPTION.md): events are
 * numbered here, sent at once, and written in batches (one store write per stream every
 * `BATCH_MS` at most), so a request never waits on the store. A stream is first written once
 * it is `BATCH_MS` old: one that ends before, delivered whole on its own connection, is never
 * written (nobody will resume it, and most calls are such), unless its client left first.
 * Readers of the log (resumed streams) are woken when a batch lands; readers on other replicas
 * poll.
 * The process says it is alive in the log (a lease renewed every 2 s), so a reader can tell a
 * stream whose writer died (a kill, a crash) from a slow one.
 */
import type { JsonRpcMessage, RequestId } from '../../protocol/jsonrpc.js';
import type { LoggedEvent, StreamHead, StreamLog } from '../../store/stream-log.js';
import { mintStreamId, numberedEvent, type StreamKind } from './event-ids.js';
import { cursorOf } from './stream-cursor.js';
import type { ResumeSettings } from './resume-options.js';

/** A writer is taken for dead this long after its last heartbeat. */
export const LEASE_MS = 6000;
const HEARTBEAT_MS = 2000;
const SWEEP_EVERY_MS = 60_000;
/** How long events wait to be written together. */
export const BATCH_MS = 10;

/** One stream being written by this process. */
export class StreamWriter {
  seq: number;
  done = false;
  /** When it was last written (before its first write: when it was opened). */
  lastWrite: number;
  /** Events not yet handed to the store. */
  pending: LoggedEvent[] = [];
  /** Something of the stream was handed to the store. */
  written = false;
  /** Its session ended: nothing more of it is written. */
  dropped = false;
  /** Where the application could pick the stream up after the last event recorded (stream-cursor.ts). */
  cursor: string | undefined;
  /** The recorder's key for it (made once: it is looked up at open, finish and flush). */
  readonly key: string;

  constructor(
    readonly recorder: StreamRecorder,
    readonly sessionId: string,
    readonly streamId: string,
    readonly requestId: RequestId | null,
    seq: number,
    now: number,
    cursor: string | undefined,
  ) {
    this.seq = seq;
    this.lastWrite = now;
    this.cursor = cursor;
    this.key = `${sessionId} ${streamId}`;
  }

  /** Numbers the message, queues it for the log, and returns its SSE event. */
  record(message: JsonRpcMessage): string {
    const data = JSON.stringify(message);
    const seq = ++this.seq;
    this.pending.push({ seq, data });
    this.cursor = cursorOf(message) ?? this.cursor;
    this.recorder.schedule(this);
    return numberedEvent(this.streamId, seq, data);
  }

  /**
   * No event will follow (the response was recorded, or the request ended without one).
   * `delivered`: every event went out on the stream's own connection, still open.
   */
  finish(delivered = false): void {
    if (this.done) return;
    this.done = true;
    if (delivered && !this.written) this.recorder.forget(this);
    else this.recorder.schedule(this);
  }
}

export class StreamRecorder {
  /** This process's run id: the owner of the streams it writes. */
  readonly owner = mintStreamId('c').slice(1);
  readonly #log: StreamLog;
  readonly #settings: ResumeSettings;
  readonly #now: () => number;
  readonly #report: (error: unknown) => void;
  readonly #active = new Map<string, StreamWriter>();
  readonly #dirty = new Set<StreamWriter>();
  readonly #waiting = new Map<string, Set<() => void>>();
  #flushQueued = false;
  /** Store writes, one after another (a stream's batches must land in order). */
  #chain: Promise<void> = Promise.resolve();
  #ticker: ReturnType<typeof setInterval> | undefined;
  #lastSweep = 0;
  readonly #closing = new AbortController();

  constructor(log: StreamLog, settings: ResumeSettings, now: () => number, report: (error: unknown) => void) {
    this.#log = log;
    this.#settings = settings;
    this.#now = now;
    this.#report = report;
  }

  get log(): StreamLog {
    return this.#log;
  }

  get settings(): ResumeSettings {
    return this.#settings;
  }

  /** Aborts when the recorder closes (the server stops): work writing streams stops with it. */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** A new stream of the session (its first event will be number 1). */
  open(sessionId: string, kind: StreamKind, requestId: RequestId | null): StreamWriter {
    return this.continue(sessionId, mintStreamId(kind), requestId, 0);
  }

  /** Goes on writing a stream after its event `seq` (a resumed GET stream, an adopted call). */
  continue(sessionId: string, streamId: string, requestId: RequestId | null, seq: number, cursor?: string): StreamWriter {
    this.#startTicking();
    const writer = new StreamWriter(this, sessionId, streamId, requestId, seq, this.#now(), cursor);
    this.#active.set(writer.key, writer);
    this.schedule(writer);
    return writer;
  }

  /** True while this process writes the stream. */
  writes(sessionId: string, streamId: string): boolean {
    return this.#active.has(`${sessionId} ${streamId}`);
  }

  schedule(writer: StreamWriter): void {
    if (writer.dropped) return;
    this.#dirty.add(writer);
    this.#queueFlush();
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setTimeout(() => this.#flushQueued && this.#flush(false), BATCH_MS).unref();
  }

  /** A stream delivered whole before it was first written: nothing of it is. */
  forget(writer: StreamWriter): void {
    this.#dirty.delete(writer);
    this.#active.delete(writer.key);
  }

  /** Writes what is pending now (a client just left: it may resume at once, on any replica). */
  flushNow(): void {
    if (this.#dirty.size > 0) this.#flush(true);
  }

  /** Writes the dirty streams; unless `all`, not those younger than a batch (most will end first). */
  #flush(all: boolean): void {
    this.#flushQueued = false;
    const now = this.#now();
    for (const writer of this.#dirty) {
      if (!all && !writer.written && now - writer.lastWrite < BATCH_MS) continue;
      this.#dirty.delete(writer);
      const events = writer.pending;
      writer.pending = [];
      writer.lastWrite = now;
      writer.written = true;
      const head: StreamHead = {
        requestId: writer.requestId,
        owner: this.owner,
        done: writer.done,
        lastSeq: writer.seq,
        cursor: writer.cursor,
      };
      const { sessionId, streamId, done } = writer;
      const { windowMs, maxEvents } = this.#settings;
      this.#enqueue(async () => {
        await this.#log.write({ sessionId, streamId, head, events, keepUntil: now + windowMs, maxEvents });
        // This process writes the stream until its end is in the log: a reader that saw it
        // unfinished must not take it for a dead writer's meanwhile.
        if (done && this.#active.get(writer.key) === writer) this.#active.delete(writer.key);
        this.#wake(writer.key);
      });
    }
    if (this.#dirty.size > 0) this.#queueFlush();
  }

  #enqueue(write: () => Promise<void>): void {
    this.#chain = this.#chain.then(write).catch((error: unknown) => this.#report(error));
  }

  /** Resolves when a batch of the stream lands here, after `ms`, or when `signal` aborts. */
  wait(sessionId: string, streamId: string, ms: number, signal: AbortSignal): Promise<void> {
    const key = `${sessionId} ${streamId}`;
    return new Promise((resolve) => {
      let waiters = this.#waiting.get(key);
      if (!waiters) this.#waiting.set(key, (waiters = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiting.get(key) === waiters) this.#waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      waiters.add(done);
    });
  }

  #wake(key: string): void {
    for (const waiter of [...(this.#waiting.get(key) ?? [])]) waiter();
  }

  /**
   * Resolves when this process's lease is in the log: before it puts its name on another's
   * stream, so no reader takes it for dead in between.
   */
  async lease(): Promise<void> {
    this.#startTicking();
    await this.#chain;
  }

  /** Forgets the session's streams (it ended). */
  dropSession(sessionId: string): void {
    for (const writer of [...this.#active.values(), ...this.#dirty]) {
      if (writer.sessionId !== sessionId) continue;
      writer.dropped = true;
      this.#active.delete(writer.key);
      this.#dirty.delete(writer);
    }
    this.#enqueue(() => this.#log.drop(sessionId));
  }

  /** Renews the lease, keeps quiet running streams from expiring, sweeps now and then. */
  #tick(): void {
    const now = this.#now();
    this.#enqueue(() => this.#log.heartbeat(this.owner, now + LEASE_MS, now));
    for (const writer of this.#active.values()) if (now - writer.lastWrite > this.#settings.windowMs / 2) this.schedule(writer);
    if (now - this.#lastSweep > SWEEP_EVERY_MS) {
      this.#lastSweep = now;
      this.#enqueue(() => this.#log.sweep(now));
    }
  }

  #startTicking(): void {
    if (this.#ticker) return;
    this.#tick();
    this.#ticker = setInterval(() => this.#tick(), HEARTBEAT_MS);
    this.#ticker.unref();
  }

  /** Writes what is pending and says this process stopped (its unfinished streams are over). */
  async close(): Promise<void> {
    this.#closing.abort();
    clearInterval(this.#ticker);
    if (this.#dirty.size > 0) this.#flush(true);
    if (this.#ticker) {
      const now = this.#now();
      this.#enqueue(() => this.#log.heartbeat(this.owner, 0, now));
    }
    this.#ticker = undefined;
    await this.#chain;
  }
}
