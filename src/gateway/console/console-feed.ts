/**
 * @module gateway/console/console-feed
 * Audit events for the console's live tail (docs/CONSOLE.md, "Cost"): an event sink that hands
 * each event to the console streams open right now, and does nothing else; with none open, a
 * write is one size check.
 */
import type { TimedEvent } from '../ops/recent-events.js';
import type { AuditEvent, EventSink } from '../audit-events.js';

export class ConsoleFeed implements EventSink {
  readonly #watchers = new Set<(event: TimedEvent) => void>();

  write(event: AuditEvent): void {
    if (this.#watchers.size === 0) return;
    const timed = { time: new Date().toISOString(), ...event };
    for (const watcher of this.#watchers) watcher(timed);
  }

  /** Events from now on go to `watcher` too, until the returned function is called. */
  watch(watcher: (event: TimedEvent) => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  get watching(): number {
    return this.#watchers.size;
  }
}

/** How long a console stream gathers events before it writes them (one write per batch). */
export const TAIL_BATCH_MS = 200;

/**
 * A watcher that gathers each event as an SSE frame (`event: event`) and hands the frames to
 * `write` together, at most TAIL_BATCH_MS after the first: a write per event to a socket cost
 * more than the event itself (bench/RESULTS.md, "Issue 19"). `stop` ends it (what is gathered is
 * dropped: its stream is closing).
 */
export function batchedFrames(write: (frames: string) => void): { watcher: (event: TimedEvent) => void; stop: () => void } {
  let frames = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    timer = undefined;
    const text = frames;
    frames = '';
    if (text !== '') write(text);
  };
  return {
    watcher(event) {
      frames += `event: event\ndata: ${JSON.stringify(event)}\n\n`;
      timer ??= setTimeout(flush, TAIL_BATCH_MS);
    },
    stop() {
      clearTimeout(timer);
    },
  };
}
