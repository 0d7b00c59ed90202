/**
 * @module server/sse
 * Turns a stream of JSON-RPC messages into SSE events, ending early (and closing the source)
 * when a signal aborts. Without resumption no event ids are sent, so no client is invited to a
 * `Last-Event-ID` resumption the server could not honour (S11: ids are optional); with it, the
 * caller numbers and logs each event (`format`, server/resume/).
 */
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';

/** The headers of every SSE answer (a POST's call stream, a GET stream). */
export function sseHeaders(): Record<string, string> {
  return { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' };
}

export function sseEvent(message: JsonRpcMessage): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

/** `onEnd` runs once when the stream ends, however it ends (done, the client gone, an error). */
export async function* sseStream(
  messages: AsyncIterable<JsonRpcMessage>,
  signal: AbortSignal,
  onEnd?: () => void,
  format: (message: JsonRpcMessage) => string = sseEvent,
): AsyncGenerator<string> {
  const iterator = messages[Symbol.asyncIterator]();
  let stop: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => (stop = resolve));
  const onAbort = (): void => stop?.();
  if (signal.aborted) {
    onEnd?.();
    return;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next === undefined || next.done) return;
      yield format(next.value);
    }
  } finally {
    onEnd?.();
    signal.removeEventListener('abort', onAbort);
    // Not awaited: a source blocked in next() may only settle its return() later.
    iterator.return?.()?.catch(() => {});
  }
}
