/**
 * @module server/handle-get
 * GET (S6): the session's SSE stream of server-to-client messages (server/session-stream.ts).
 * One per session on this replica at a time (a second gets 409; one opened on another replica
 * takes over); closed when the client leaves or the session ends.
 */
import { SessiongateError } from '../protocol/failures.js';
import { PROTOCOL_VERSION } from '../protocol/headers.js';
import { acceptsSse } from '../protocol/media-type.js';
import { clientSessionIdOf, requestContext, sessionHandle, withSignal } from './context.js';
import { slowReader } from './session-port.js';
import type { Incoming, Outgoing } from './exchange.js';
import { sseHeaders } from './sse.js';
import { checkVersionHeader, identityOf, refuseWithoutSession, requireSession } from './session-gate.js';
import type { ServerCore } from './server-core.js';
import { openSessionStream } from './session-stream.js';
import { sseStream } from './sse.js';
import { type EventPosition, parseEventId } from './resume/event-ids.js';
import { primingEvent } from './resume/recorded-stream.js';
import { type Adopt, replayKept, replayStream } from './resume/replay-stream.js';
import { adoptCall } from './resume/adopt-call.js';
import { adoptionDeadline } from './resume/adoption-deadline.js';
import type { RequestContext } from './application.js';
import type { SessionRecord } from '../store/record.js';
import type { StreamRecorder, StreamWriter } from './resume/stream-recorder.js';

export async function handleGet(core: ServerCore, incoming: Incoming): Promise<Outgoing> {
  refuseWithoutSession(incoming);
  if (!acceptsSse(incoming.header('accept')))
    throw new SessiongateError('SG_NOT_ACCEPTABLE', 'Not Acceptable: Accept must allow text/event-stream');
  checkVersionHeader(incoming.header(PROTOCOL_VERSION));
  const record = await requireSession(core, incoming, await identityOf(core, incoming));
  const { recorder } = core;
  const lastEventId = incoming.header('last-event-id');
  const from = recorder && lastEventId !== undefined ? parseEventId(lastEventId) : undefined;
  // S11: a call's stream resumed is that stream only, beside the session's GET stream; an id
  // that is not ours, or not this session's, gets an empty stream (nothing of another's).
  if (recorder && lastEventId !== undefined && from?.kind !== 'l') return resumedCall(core, recorder, incoming, record, from);
  if (core.openStreams.has(record.id)) throw new SessiongateError('SG_STREAM_CONFLICT');

  const context = streamContext(core, incoming, record);
  const session = context.session!;
  core.openStreams.add(record.id);
  // A session whose client listens is not idle.
  const release = core.sessions.busy(record.id);
  // Ends when the client leaves, the session ends, or a stream opened on another replica takes over.
  const messages = openSessionStream(core.application, context, session, () => core.sessions.report(slowReader(record.id)));

  async function* stream(): AsyncGenerator<string> {
    let writer: StreamWriter | undefined;
    try {
      if (recorder) {
        // The session's GET stream resumed: what it missed, then live under the same stream id.
        const kept = from ? yield* replayKept(recorder, record.id, from, () => core.sessions.now()) : undefined;
        writer = kept === undefined ? recorder.open(record.id, 'l', null) : recorder.continue(record.id, from!.streamId, null, kept);
        const priming = kept === undefined ? primingEvent(writer, record.protocolVersion) : undefined;
        if (priming !== undefined) yield priming;
      }
      yield* sseStream(messages, incoming.signal, release, writer && ((message) => writer!.record(message)));
    } finally {
      writer?.finish();
      release();
      core.openStreams.delete(record.id);
    }
  }
  return { status: 200, headers: sseHeaders(), body: stream() };
}

/** A call's stream resumed (docs/RESUMPTION.md); `from` undefined: an id not of ours, an empty stream. */
function resumedCall(
  core: ServerCore,
  recorder: StreamRecorder,
  incoming: Incoming,
  record: SessionRecord,
  from: EventPosition | undefined,
): Outgoing {
  const sessionId = record.id;
  // A session whose client waits for a call is not idle.
  const release = core.sessions.busy(sessionId);
  const adopt: Adopt = (head) =>
    adoptCall(recorder, core.application, { sessionId, streamId: from!.streamId, head }, adoptionContext(core, incoming, record));
  async function* replay(): AsyncGenerator<string> {
    try {
      if (from) yield* replayStream(recorder, sessionId, from, incoming.signal, () => core.sessions.now(), adopt);
    } finally {
      release();
    }
  }
  return { status: 200, headers: sseHeaders(), body: replay() };
}

/**
 * The context an adopted call runs in: this GET's caller and session; its signal the request
 * timeout (from the last message of the call, adoption-deadline.ts) or the server's close, not
 * the client's leaving (it may resume again).
 */
function adoptionContext(core: ServerCore, incoming: Incoming, record: SessionRecord): RequestContext {
  const deadline = adoptionDeadline(core.inFlight.requestTimeoutMs, core.recorder!.closing);
  return withSignal(streamContext(core, incoming, record), deadline);
}

/** What the application sees of a GET: the session, its revision and principal, the correlation id. */
function streamContext(core: ServerCore, incoming: Incoming, record: SessionRecord): RequestContext {
  return requestContext(incoming, {
    session: sessionHandle(core.sessions, record),
    protocolVersion: record.protocolVersion,
    principal: record.principal,
    clientSessionId: clientSessionIdOf(incoming, undefined) ?? record.clientSessionId ?? undefined,
  });
}
