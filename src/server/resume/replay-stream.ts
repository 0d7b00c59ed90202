/**
 * @module server/resume/replay-stream
 * GET with `Last-Event-ID` for a call's stream (S11, docs/RESUMPTION.md): the events of that
 * stream after the id, read from the store's log; then, while the call is still running (on
 * this replica or any other), its next events as they are logged; the stream ends after the
 * response. When the process running the call died first, the client gets the events logged
 * before and then an error for the call: never a hang, never a silent gap.
 */
import type { JsonRpcMessage } from '../../protocol/jsonrpc.js';
import type { LoggedEvent, StreamHead } from '../../store/stream-log.js';
import { lostAnswer } from './adopt-call.js';
import { sseEvent } from '../sse.js';
import { type EventPosition, numberedEvent } from './event-ids.js';
import type { StreamRecorder } from './stream-recorder.js';

const PAGE = 200;
/** How often a reader looks again when no local batch woke it (the writer may be another replica). */
const POLL_MS = 250;
/**
 * How long a stream not (yet) in the log is looked for before it is taken for unknown. Events
 * are sent before they are written (docs/RESUMPTION.md, "What Sessiongate does"), so a client that left can
 * ask another replica before its writer has noticed and written it; the writer does so at
 * once, but under load "at once" has taken a few hundred milliseconds.
 */
export const FIRST_WRITE_GRACE_MS = 2000;

/** Picks up a call whose writer died (adopt-call.ts); true when the stream has a live writer again. */
export type Adopt = (head: StreamHead) => Promise<boolean>;

export async function* replayStream(
  recorder: StreamRecorder,
  sessionId: string,
  from: EventPosition,
  signal: AbortSignal,
  now: () => number,
  adopt: Adopt,
): AsyncGenerator<string> {
  const { log } = recorder;
  let after = from.seq;
  /** The writer was found dead once: the next finding is final. */
  let foundDead = false;
  const lookUntil = now() + FIRST_WRITE_GRACE_MS;
  while (!signal.aborted) {
    const page = await log.read(sessionId, from.streamId, after, PAGE, now());
    if (!page) {
      // Unknown, another session's, or no longer kept: an empty stream. Unless its first batch
      // has not landed yet: this process writes it, or another may, within the grace.
      if (!recorder.writes(sessionId, from.streamId) && now() >= lookUntil) return;
      await recorder.wait(sessionId, from.streamId, POLL_MS, signal);
      continue;
    }
    yield* gapNotice(page.events, after);
    for (const event of page.events) {
      yield numberedEvent(from.streamId, event.seq, event.data);
      after = event.seq;
    }
    if (page.events.length === PAGE) continue;
    if (page.head.done) return;
    if (!(await writerAlive(recorder, sessionId, from.streamId, page.head, now()))) {
      // One more read after the writer's lease ran out: its last batch may have landed meanwhile.
      if (foundDead) {
        if (await adopt(page.head)) {
          foundDead = false;
          continue;
        }
        if (page.head.requestId !== null) yield numberedEvent(from.streamId, after + 1, JSON.stringify(lostAnswer(page.head.requestId)));
        return;
      }
      foundDead = true;
      continue;
    }
    await recorder.wait(sessionId, from.streamId, POLL_MS, signal);
  }
}

/**
 * A session's GET stream resumed (S11): its events after the id, read from the log; returns the
 * number of the last one (where the live stream goes on), or undefined when the stream is not
 * kept (then a new one starts).
 */
export async function* replayKept(
  recorder: StreamRecorder,
  sessionId: string,
  from: EventPosition,
  now: () => number,
): AsyncGenerator<string, number | undefined> {
  let after = from.seq;
  for (;;) {
    const page = await recorder.log.read(sessionId, from.streamId, after, PAGE, now());
    if (!page) return undefined;
    yield* gapNotice(page.events, after);
    for (const event of page.events) {
      yield numberedEvent(from.streamId, event.seq, event.data);
      after = event.seq;
    }
    if (page.events.length < PAGE) return after;
  }
}

async function writerAlive(recorder: StreamRecorder, sessionId: string, streamId: string, head: StreamHead, at: number): Promise<boolean> {
  if (head.owner === recorder.owner) return recorder.writes(sessionId, streamId);
  return (await recorder.log.aliveUntil(head.owner)) > at;
}

/**
 * Events after `after` were trimmed (past `maxEvents`) before the client came back: it is told
 * so, never left with a silent gap (docs/RESUMPTION.md, "Retention"), by a log message of the
 * server's (no event id: where the client resumes stays the last event it got).
 */
function* gapNotice(events: readonly LoggedEvent[], after: number): Generator<string> {
  const first = events[0];
  if (!first || first.seq <= after + 1) return;
  const missed = first.seq - after - 1;
  const notice: JsonRpcMessage = {
    jsonrpc: '2.0',
    method: 'notifications/message',
    params: {
      level: 'warning',
      logger: 'sessiongate',
      data: { code: 'SG_EVENTS_TRIMMED', missed, message: `${missed} events of this stream were no longer kept when it was resumed` },
    },
  };
  yield sseEvent(notice);
}
