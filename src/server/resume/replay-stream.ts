/**
 * @module server/resume/replay-stream
 * GET with `Last-Event-ID` for a call's stream (S11, docs/RESUMPTION.md): the events of that
 * stream after the id, read from the store's log; then, while the call is still running (on
 * this replica or any other), its next events as they are logged; the stream ends after the
 * response. When the process running the call died first, the client gets the events logged
 * before and then an error for the call: never a hang, never a silent gap.
 */
import type { RequestId } from '../../protocol/jsonrpc.js';
import type { StreamHead } from '../../store/stream-log.js';
import type { EventPosition } from './event-ids.js';
import { replayedEvent } from './recorded-stream.js';
import type { StreamRecorder } from './stream-recorder.js';

const PAGE = 200;
/** How often a reader looks again when no local batch woke it (the writer may be another replica). */
const POLL_MS = 250;

export async function* replayStream(
  recorder: StreamRecorder,
  sessionId: string,
  from: EventPosition,
  signal: AbortSignal,
  now: () => number,
): AsyncGenerator<string> {
  const { log } = recorder;
  let after = from.seq;
  let deadSince: number | undefined;
  while (!signal.aborted) {
    const page = await log.read(sessionId, from.streamId, after, PAGE, now());
    if (!page) {
      // Unknown, another session's, or no longer kept: an empty stream. Unless this process
      // writes it and its first batch has not landed yet.
      if (!recorder.writes(sessionId, from.streamId)) return;
      await recorder.wait(sessionId, from.streamId, POLL_MS, signal);
      continue;
    }
    for (const event of page.events) {
      yield replayedEvent(from.streamId, event.seq, event.data);
      after = event.seq;
    }
    if (page.events.length === PAGE) continue;
    if (page.head.done) return;
    if (!(await writerAlive(recorder, sessionId, from.streamId, page.head, now()))) {
      // One more read after the writer's lease ran out: its last batch may have landed meanwhile.
      if (deadSince !== undefined) {
        if (page.head.requestId !== null) yield replayedEvent(from.streamId, after + 1, JSON.stringify(lostAnswer(page.head.requestId)));
        return;
      }
      deadSince = now();
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
    for (const event of page.events) {
      yield replayedEvent(from.streamId, event.seq, event.data);
      after = event.seq;
    }
    if (page.events.length < PAGE) return after;
  }
}

async function writerAlive(recorder: StreamRecorder, sessionId: string, streamId: string, head: StreamHead, at: number): Promise<boolean> {
  if (head.owner === recorder.owner) return recorder.writes(sessionId, streamId);
  return (await recorder.log.aliveUntil(head.owner)) > at;
}

/** The answer for a call whose process ended before it answered (docs/errors.md). */
function lostAnswer(id: RequestId): object {
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: -32603,
      message: 'The server running this request stopped before answering it; it may or may not have completed',
      data: { code: 'SG_REQUEST_LOST' },
    },
  };
}
