/**
 * @module gateway/console/console-feed
 * Audit events for the console's live tail (docs/CONSOLE.md, "Cost"): an event sink that hands
 * each event to the console streams open right now, and does nothing else; with none open, a
 * write is one size check.
 */
import type { TimedEvent } from '../ops/admin.js';
import type { AuditEvent, EventSink } from '../ops/audit.js';

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
