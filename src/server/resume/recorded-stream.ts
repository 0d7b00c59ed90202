/**
 * @module server/resume/recorded-stream
 * The SSE body of a call's stream on a session with resumption (docs/RESUMPTION.md): primed
 * with an event id (and `retry`) for 2025-11-25 and later, every message numbered and logged.
 * A client that leaves does not cancel the call (S12): the rest of its messages are read and
 * logged all the same, so the client can resume and get them.
 */
import type { JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { isPrimedRevision } from '../../protocol/revisions.js';
import { eventId } from './event-ids.js';
import type { StreamWriter } from './stream-recorder.js';

/** The first event of a stream for a client of 2025-11-25 or later: an id and `retry`, no data (S11). */
export function primingEvent(writer: StreamWriter, protocolVersion: string): string | undefined {
  if (!isPrimedRevision(protocolVersion)) return undefined;
  return `id: ${eventId(writer.streamId, writer.seq)}\nretry: ${writer.recorder.settings.retryMs}\ndata: \n\n`;
}

type Step = IteratorResult<JsonRpcMessage>;

/** `onEnd` runs once, when the last message was logged (not when the client left). */
export async function* recordedStream(
  writer: StreamWriter,
  messages: AsyncIterable<JsonRpcMessage>,
  signal: AbortSignal,
  priming: string | undefined,
  onEnd: () => void,
): AsyncGenerator<string> {
  const iterator = messages[Symbol.asyncIterator]();
  let stop: (() => void) | undefined;
  const gone = new Promise<undefined>((resolve) => (stop = () => resolve(undefined)));
  signal.addEventListener('abort', stop!, { once: true });
  let pending: Promise<Step> | undefined;
  let over = false;
  let prefix = priming ?? '';
  try {
    if (prefix !== '' && !signal.aborted) {
      // The priming event goes out with the first message when that is ready at once (one
      // write, not two); else on its own, so the client can resume a call that is slow to start.
      pending = iterator.next();
      if (!(await settlesSoon(pending))) {
        yield prefix;
        prefix = '';
      }
    }
    while (!signal.aborted) {
      pending ??= iterator.next();
      const next = await Promise.race([pending, gone]);
      if (next === undefined) break;
      pending = undefined;
      if (next.done) {
        over = true;
        return;
      }
      yield prefix + writer.record(next.value);
      prefix = '';
    }
  } finally {
    signal.removeEventListener('abort', stop!);
    if (over) {
      writer.finish(true);
      onEnd();
    } else {
      // What the client may resume is written now, not at the next batch.
      writer.recorder.flushNow();
      void drain(writer, iterator, pending).finally(onEnd);
    }
  }
}

/**
 * True when `promise` settles within a few microtask turns (a message the source already had):
 * no timer and no turn of the event loop spent per stream.
 */
async function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let turn = 0; turn < SOON_TURNS && !settled; turn++) await Promise.resolve();
  return settled;
}
const SOON_TURNS = 16;

/** The client left: the call goes on, its messages into the log only. */
async function drain(writer: StreamWriter, iterator: AsyncIterator<JsonRpcMessage>, pending: Promise<Step> | undefined): Promise<void> {
  try {
    for (let next = await (pending ?? iterator.next()); !next.done; next = await iterator.next()) writer.record(next.value);
  } catch {
    // The source failed: the stream ends without a response; a resuming reader is told so.
  } finally {
    writer.finish();
  }
}
