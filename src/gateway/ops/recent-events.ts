/**
 * @module gateway/ops/recent-events
 * The last events of each session this replica saw, for `GET /admin/sessions/:id` and the
 * console: bounded in sessions and in events per session.
 */
import type { AuditEvent, EventSink } from '../audit-events.js';

const RECENT_PER_SESSION = 20;

export type TimedEvent = AuditEvent & { time: string };
const SESSIONS_REMEMBERED = 10_000;

/** What this replica saw of one session: its last events, and how many calls it answered. */
interface SessionActivity {
  events: TimedEvent[];
  calls: number;
}

/** The last events of each session, for `GET /admin/sessions/:id` and the console. Bounded in both directions. */
export class RecentEvents implements EventSink {
  readonly #bySession = new Map<string, SessionActivity>();

  write(event: AuditEvent): void {
    // Sign-ins, grants, connections and tool pins belong to no session.
    if (!('session' in event) || event.session === null) return;
    let activity = this.#bySession.get(event.session);
    if (!activity) {
      if (this.#bySession.size >= SESSIONS_REMEMBERED) this.#bySession.delete(this.#bySession.keys().next().value!);
      activity = { events: [], calls: 0 };
      this.#bySession.set(event.session, activity);
    }
    if (event.event === 'request') activity.calls++;
    activity.events.push({ time: new Date().toISOString(), ...event });
    if (activity.events.length > RECENT_PER_SESSION) activity.events.shift();
  }

  of(tag: string): TimedEvent[] {
    return this.#bySession.get(tag)?.events ?? [];
  }

  /** Requests this replica answered in the session, and the last of them. */
  calls(tag: string): { count: number; last: TimedEvent | undefined } {
    const activity = this.#bySession.get(tag);
    return { count: activity?.calls ?? 0, last: activity?.events.findLast((event) => event.event === 'request') };
  }
}
