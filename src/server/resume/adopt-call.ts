/**
 * @module server/resume/adopt-call
 * A call whose process died before it answered, picked up by a reader that found it so
 * (docs/RESUMPTION.md, "A call whose gateway died"): when the application can go on from the
 * stream's cursor (the gateway resumes its upstream's stream there), this process claims the
 * stream in the log and writes the rest of it, ending with the response or, when the
 * application cannot get it, with `SG_REQUEST_LOST`. Readers follow the log as for any live
 * writer.
 */
import { errorResponse } from '../../protocol/answers.js';
import type { JsonRpcMessage, RequestId } from '../../protocol/jsonrpc.js';
import type { StreamHead } from '../../store/stream-log.js';
import type { McpApplication, RequestContext } from '../application.js';
import type { StreamRecorder, StreamWriter } from './stream-recorder.js';

/**
 * True when the stream has a live writer again (this process, or a reader elsewhere that
 * claimed it first); false when nobody can pick the call up.
 */
export async function adoptCall(
  recorder: StreamRecorder,
  application: McpApplication,
  at: { sessionId: string; streamId: string; head: StreamHead },
  context: RequestContext,
): Promise<boolean> {
  const { sessionId, streamId, head } = at;
  if (head.requestId === null || head.cursor === undefined || !application.adopt) return false;
  await recorder.lease();
  if (!(await recorder.log.claim(sessionId, streamId, head.owner, recorder.owner))) return true;
  const writer = recorder.continue(sessionId, streamId, head.requestId, head.lastSeq, head.cursor);
  let messages: AsyncIterable<JsonRpcMessage> | undefined;
  try {
    messages = application.adopt({ requestId: head.requestId, cursor: head.cursor }, context);
  } catch {
    messages = undefined;
  }
  void writeRest(writer, messages, head.requestId, () => context.keepAlive?.());
  return true;
}

async function writeRest(
  writer: StreamWriter,
  messages: AsyncIterable<JsonRpcMessage> | undefined,
  requestId: RequestId,
  alive: () => void,
): Promise<void> {
  let answered = false;
  try {
    if (messages) {
      for await (const message of messages) {
        alive(); // each message renews the request deadline, as for any request
        writer.record(message);
        answered ||= !('method' in message) && message.id === requestId;
      }
    }
  } catch {
    // The application could not get the rest: the reader is told the call was lost.
  } finally {
    if (!answered) writer.record(lostAnswer(requestId));
    writer.finish();
  }
}

/** The answer for a call whose process ended before it answered (docs/errors.md). */
export function lostAnswer(id: RequestId): JsonRpcMessage {
  return errorResponse(id, 'SG_REQUEST_LOST');
}
