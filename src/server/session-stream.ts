/**
 * @module server/session-stream
 * A session's GET stream (S6) as its client gets it: what the application sends with
 * `session.toStream`, from this replica or another, merged with the application's own source
 * when it has one (`openStream`: an upstream's stream opened for this client). It ends when the
 * first of them ends (the session ended, a newer stream took over, the upstream closed it);
 * returning it closes both.
 */
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { McpApplication, RequestContext, SessionHandle } from './application.js';
import { MessageQueue, streamBound } from './message-queue.js';

/** `session` is `context.session`, which a GET stream always has. */
export function openSessionStream(
  application: McpApplication,
  context: RequestContext,
  session: SessionHandle,
  onOverflow: () => void = () => {},
): AsyncIterable<JsonRpcMessage> {
  const pushed = session.port.stream(session.id);
  const own = application.openStream?.(context);
  return own ? firstToEnd([pushed, own], onOverflow) : pushed;
}

/** Messages of every source as they come, until one source ends (or too much waits unread). */
function firstToEnd(sources: AsyncIterable<JsonRpcMessage>[], onOverflow: () => void): AsyncIterable<JsonRpcMessage> {
  const iterators = sources.map((source) => source[Symbol.asyncIterator]());
  // A queue rather than an async generator: its return() settles at once, even while a source
  // is waiting, so a client leaving frees every source.
  const merged = new MessageQueue<JsonRpcMessage>(() => {
    for (const iterator of iterators) void iterator.return?.()?.catch(() => {});
  }, streamBound(onOverflow));
  for (const iterator of iterators) {
    void (async () => {
      for (let next = await iterator.next(); !next.done && !merged.closed; next = await iterator.next()) merged.push(next.value);
    })()
      .catch(() => {})
      .finally(() => merged.end());
  }
  return merged;
}
