/**
 * @module store/memory/memory-stream-log
 * Stream events in this process's memory: resumption across connections, not restarts. Bounded
 * by count per stream (the writer's `maxEvents`) and by bytes for the whole process
 * (`maxBytes`, docs/limits.md "Streams"): past it the oldest events written, whichever streams
 * hold them, are dropped first, and a client resuming from before them is told of the gap
 * (SG_EVENTS_TRIMMED), as with any trimmed stream. Sixty abandoned 2 MB answers once kept
 * 173 MB for the whole resume window.
 */
import type { LoggedEvent, StreamHead, StreamLog, StreamPage, StreamWrite } from '../stream-log.js';

/** Bytes of event data this process keeps at most by default. */
export const DEFAULT_STREAM_LOG_BYTES = 64 * 1024 * 1024;

interface KeptStream {
  head: StreamHead;
  events: LoggedEvent[];
  /** Index of the first kept event: dropping the oldest is a move of this index, not a shift. */
  start: number;
  /** How many events were cut off the front of `events` by compaction (absolute index = base + index). */
  base: number;
  keepUntil: number;
  /** Bytes of the events from `start` on. */
  bytes: number;
  /** Dropped or swept: its batches in the queue count for nothing. */
  gone: boolean;
}

/** One write's events, in the order written: what the byte bound drops first. */
interface Batch {
  kept: KeptStream;
  /** Absolute index just past the batch's last event. */
  end: number;
}

export class MemoryStreamLog implements StreamLog {
  readonly #sessions = new Map<string, Map<string, KeptStream>>();
  readonly #runs = new Map<string, number>();
  readonly #maxBytes: number;
  #bytes = 0;
  /** Batches oldest first; `#head` is the first not yet dropped (a move, not a shift). */
  #batches: Batch[] = [];
  #head = 0;

  constructor(maxBytes = DEFAULT_STREAM_LOG_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of event data kept now. */
  get bytes(): number {
    return this.#bytes;
  }

  async write({ sessionId, streamId, head, events, keepUntil, maxEvents }: StreamWrite): Promise<void> {
    let streams = this.#sessions.get(sessionId);
    if (!streams) this.#sessions.set(sessionId, (streams = new Map<string, KeptStream>()));
    let kept = streams.get(streamId);
    if (!kept) streams.set(streamId, (kept = { head, events: [], start: 0, base: 0, keepUntil, bytes: 0, gone: false }));
    kept.head = head;
    kept.keepUntil = keepUntil;
    for (const event of events) {
      kept.events.push(event);
      kept.bytes += event.data.length;
      this.#bytes += event.data.length;
    }
    if (events.length > 0) this.#batches.push({ kept, end: kept.base + kept.events.length });
    const excess = kept.events.length - kept.start - maxEvents;
    if (excess > 0) this.#dropFront(kept, kept.start + excess);
    while (this.#bytes > this.#maxBytes && this.#head < this.#batches.length) {
      const batch = this.#batches[this.#head++]!;
      if (!batch.kept.gone) this.#dropFront(batch.kept, batch.end - batch.kept.base);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#head);
      this.#head = 0;
    }
  }

  async read(sessionId: string, streamId: string, afterSeq: number, limit: number, now: number): Promise<StreamPage | undefined> {
    const kept = this.#sessions.get(sessionId)?.get(streamId);
    if (!kept || kept.keepUntil <= now) return undefined;
    const events: LoggedEvent[] = [];
    for (let i = kept.start; i < kept.events.length && events.length < limit; i++) {
      const event = kept.events[i]!;
      if (event.seq > afterSeq) events.push(event);
    }
    return { head: kept.head, events };
  }

  async claim(sessionId: string, streamId: string, from: string, owner: string): Promise<boolean> {
    const kept = this.#sessions.get(sessionId)?.get(streamId);
    if (kept?.head.owner !== from) return false;
    kept.head = { ...kept.head, owner };
    return true;
  }

  async drop(sessionId: string): Promise<void> {
    for (const kept of this.#sessions.get(sessionId)?.values() ?? []) this.#forget(kept);
    this.#sessions.delete(sessionId);
  }

  async sweep(now: number): Promise<void> {
    for (const [sessionId, streams] of this.#sessions) {
      for (const [streamId, kept] of streams) {
        if (kept.keepUntil > now) continue;
        this.#forget(kept);
        streams.delete(streamId);
      }
      if (streams.size === 0) this.#sessions.delete(sessionId);
    }
  }

  async heartbeat(owner: string, aliveUntil: number): Promise<void> {
    if (aliveUntil === 0) this.#runs.delete(owner);
    else this.#runs.set(owner, aliveUntil);
  }

  async aliveUntil(owner: string): Promise<number> {
    return this.#runs.get(owner) ?? 0;
  }

  /** Drops the stream's events before index `until` (of `events`), counting their bytes out. */
  #dropFront(kept: KeptStream, until: number): void {
    for (; kept.start < until && kept.start < kept.events.length; kept.start++) {
      const size = kept.events[kept.start]!.data.length;
      kept.bytes -= size;
      this.#bytes -= size;
    }
    // Compact once half the array is dropped events.
    if (kept.start > 64 && kept.start * 2 > kept.events.length) {
      kept.events = kept.events.slice(kept.start);
      kept.base += kept.start;
      kept.start = 0;
    }
  }

  #forget(kept: KeptStream): void {
    this.#bytes -= kept.bytes;
    kept.bytes = 0;
    kept.gone = true;
  }
}
