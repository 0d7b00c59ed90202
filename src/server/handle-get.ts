/**
 * @module server/handle-get
 * GET (S6): the session's SSE stream of server-to-client messages (server/session-stream.ts).
 * One per session on this replica at a time (a second gets 409; one opened on another replica
 * takes over); closed when the client leaves or the session ends.
 */
import { SessiongateError } from '../protocol/failures.js';
import { PROTOCOL_VERSION } from '../protocol/headers.js';
import { acceptsSse } from '../protocol/media-type.js';
import { clientSessionIdOf, requestContext, sessionHandle } from './context.js';
import { slowReader } from './session-port.js';
import type { Incoming, Outgoing } from './exchange.js';
import { sseHeaders } from './sse.js';
import { checkVersionHeader, identityOf, refuseWithoutSession, requireSession } from './session-gate.js';
import type { ServerCore } from './server-core.js';
import { openSessionStream } from './session-stream.js';
import { sseStream } from './sse.js';

export async function handleGet(core: ServerCore, incoming: Incoming): Promise<Outgoing> {
  refuseWithoutSession(incoming);
  if (!acceptsSse(incoming.header('accept')))
    throw new SessiongateError('SG_NOT_ACCEPTABLE', 'Not Acceptable: Accept must allow text/event-stream');
  checkVersionHeader(incoming.header(PROTOCOL_VERSION));
  const record = await requireSession(core, incoming, await identityOf(core, incoming));
  if (core.openStreams.has(record.id)) throw new SessiongateError('SG_STREAM_CONFLICT');

  const session = sessionHandle(core.sessions, record);
  const context = requestContext(incoming, {
    session,
    protocolVersion: record.protocolVersion,
    principal: record.principal,
    clientSessionId: clientSessionIdOf(incoming, undefined) ?? record.clientSessionId ?? undefined,
  });
  core.openStreams.add(record.id);
  // A session whose client listens is not idle.
  const release = core.sessions.busy(record.id);
  // Ends when the client leaves, the session ends, or a stream opened on another replica takes over.
  const messages = openSessionStream(core.application, context, session, () => core.sessions.report(slowReader(record.id)));

  async function* stream(): AsyncGenerator<string> {
    try {
      yield* sseStream(messages, incoming.signal, release);
    } finally {
      release();
      core.openStreams.delete(record.id);
    }
  }
  return { status: 200, headers: sseHeaders(), body: stream() };
}
