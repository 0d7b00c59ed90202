/**
 * @module server/handle-get
 * GET (S6): the session's SSE stream of server-to-client messages. One per session at a time
 * (a second gets 409); closed when the client leaves or the session ends.
 */
import { SessiongateError } from '../protocol/failures.js';
import { acceptsSse } from '../protocol/media-type.js';
import { clientSessionIdOf, requestContext, sessionHandle } from './context.js';
import type { Incoming, Outgoing } from './exchange.js';
import { sseHeaders } from './handle-post.js';
import { checkVersionHeader, identityOf, refuseWithoutSession, requireSession } from './session-gate.js';
import type { ServerCore } from './session-server.js';
import { sseStream } from './sse.js';

export async function handleGet(core: ServerCore, incoming: Incoming): Promise<Outgoing> {
  refuseWithoutSession(incoming);
  if (!acceptsSse(incoming.header('accept')))
    throw new SessiongateError('SG_NOT_ACCEPTABLE', 'Not Acceptable: Accept must allow text/event-stream');
  checkVersionHeader(incoming);
  const record = await requireSession(core, incoming, await identityOf(core, incoming));
  const open = core.application.openStream;
  if (!open)
    throw new SessiongateError('SG_METHOD_NOT_ALLOWED', 'Method Not Allowed: this server offers no GET stream', {
      headers: { allow: 'POST, DELETE' },
    });
  if (core.openStreams.has(record.id)) throw new SessiongateError('SG_STREAM_CONFLICT');

  // The stream ends when the client leaves or when the session ends (disposer below).
  const ended = new AbortController();
  const onClientGone = (): void => ended.abort();
  incoming.signal.addEventListener('abort', onClientGone, { once: true });
  core.openStreams.add(record.id);
  const detach = core.sessions.live.attach(record.id, () => ended.abort());
  const context = requestContext(
    incoming,
    {
      session: sessionHandle(core.sessions, record),
      protocolVersion: record.protocolVersion,
      principal: record.principal,
      clientSessionId: clientSessionIdOf(incoming, undefined) ?? record.clientSessionId ?? undefined,
    },
    ended.signal,
  );
  const messages = open.call(core.application, context);

  async function* stream(): AsyncGenerator<string> {
    try {
      yield* sseStream(messages, ended.signal);
    } finally {
      incoming.signal.removeEventListener('abort', onClientGone);
      core.openStreams.delete(record.id);
      detach();
    }
  }
  return { status: 200, headers: sseHeaders(), body: stream() };
}
