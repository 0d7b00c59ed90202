/**
 * @module server/watched-stream
 * A stream of messages passed through, telling the watcher about each message (which it may
 * hand back changed: the tracing stage adds the trace to a server's messages) and, once, about
 * its end: when it finished or when the client left. An iterator rather than a
 * generator: `return()` must reach the source at once when the client leaves, not wait for the
 * source's next message.
 */
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

export function watched(
  messages: AsyncIterable<JsonRpcMessage>,
  onEnd: () => void,
  onMessage: (message: JsonRpcMessage) => JsonRpcMessage | void = () => {},
): AsyncIterableIterator<JsonRpcMessage> {
  const source = messages[Symbol.asyncIterator]();
  let ended = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  return {
    async next() {
      const next = await source.next();
      if (next.done) {
        finish();
        return next;
      }
      const changed = onMessage(next.value);
      return changed === undefined ? next : { done: false, value: changed };
    },
    async return() {
      finish();
      return (await source.return?.()) ?? { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
