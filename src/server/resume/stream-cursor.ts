/**
 * @module server/resume/stream-cursor
 * How an application says where a stream it produces could be picked up if this process died
 * (docs/RESUMPTION.md, "A call whose gateway died"): it tags a message with a cursor (the
 * gateway: its upstream's event id for that message); the recorder keeps the cursor of the last
 * message it logged in the stream's head, and `adopt` gets it back. The tag rides on the message
 * object under a symbol: never serialized, kept by a decorator that spreads the message.
 */
import type { JsonRpcMessage } from '../../protocol/jsonrpc.js';

const CURSOR = Symbol('sessiongate.streamCursor');

type Tagged = JsonRpcMessage & { [CURSOR]?: string };

/** Tags `message` (returned) with the cursor that follows it. */
export function withCursor<T extends JsonRpcMessage>(message: T, cursor: string): T {
  (message as Tagged)[CURSOR] = cursor;
  return message;
}

/** The cursor a message was tagged with, if any. */
export function cursorOf(message: JsonRpcMessage): string | undefined {
  return (message as Tagged)[CURSOR];
}
