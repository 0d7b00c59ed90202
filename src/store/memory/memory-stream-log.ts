/**
 * @module store/memory/memory-stream-log
 * Stream events in this process's memory: resumption across connections, not restarts.
 */
import type { LoggedEvent, StreamHead, StreamLog, StreamPage, StreamWrite } from '../stream-log.js';

interface KeptStream {
  head: StreamHead;
  events: LoggedEvent[];
  /** Index of the first kept event: dropping the oldest is a move of this index, not a shift. */
  start: number;
  keepUntil: number;
}

export class MemoryStreamLog implements StreamLog {
  readonly #sessions = new Map<string, Map<string, KeptStream>>();
  readonly #runs = new Map<string, number>();

  async write({ sessionId, streamId, head, events, keepUntil, maxEvents }: StreamWrite): Promise<void> {
    let streams = this.#sessions.get(sessionId);
    if (!streams) this.#sessions.set(sessionId, (streams = new Map<string, KeptStream>()));
    let kept = streams.get(streamId);
    if (!kept) streams.set(streamId, (kept = { head, events: [], start: 0, keepUntil }));
    kept.head = head;
    kept.keepUntil = keepUntil;
    kept.events.push(...events);
    const excess = kept.events.length - kept.start - maxEvents;
    if (excess > 0) kept.start += excess;
    // Compact once half the array is dropped events.
    if (kept.start > 64 && kept.start * 2 > kept.events.length) {
      kept.events = kept.events.slice(kept.start);
      kept.start = 0;
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
    this.#sessions.delete(sessionId);
  }

  async sweep(now: number): Promise<void> {
    for (const [sessionId, streams] of this.#sessions) {
      for (const [streamId, kept] of streams) if (kept.keepUntil <= now) streams.delete(streamId);
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
}
