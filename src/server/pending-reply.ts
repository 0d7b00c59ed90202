/**
 * @module server/pending-reply
 * The answer to one client request as a peer produces it (an SDK instance in the binding, an
 * upstream in the gateway): if the response comes first it is a plain JSON reply; if the peer
 * sends anything related first (progress, logging, a server-to-client request), the reply
 * becomes a stream that ends with the response.
 */
import type { JsonRpcMessage, JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { Reply } from './application.js';
import { MessageQueue, streamBound } from './message-queue.js';

export class PendingReply {
  readonly reply: Promise<Reply>;
  #resolve!: (reply: Reply) => void;
  #stream: MessageQueue<JsonRpcMessage> | undefined;
  readonly #onOverflow: () => void;

  /**
   * `onOverflow`: the stream was ended because more than 8 MiB waited unread (its client reads
   * too slowly; docs/limits.md, "Streams").
   */
  constructor(onOverflow: () => void = () => {}) {
    this.reply = new Promise((resolve) => (this.#resolve = resolve));
    this.#onOverflow = onOverflow;
  }

  /**
   * A message related to the request, before its response: switch to a stream. Returns a
   * promise when the client has fallen behind (docs/limits.md, "Streams"): the producer should
   * read nothing more from its source until it settles.
   */
  push(message: JsonRpcMessage): Promise<void> | undefined {
    if (!this.#stream) {
      this.#stream = new MessageQueue<JsonRpcMessage>(undefined, streamBound(this.#onOverflow));
      this.#resolve(this.#stream);
    }
    this.#stream.push(message);
    return this.#stream.pressure();
  }

  /** The response: the reply as it is, or the last message of the stream. */
  respond(response: JsonRpcResponse): void {
    if (this.#stream) {
      this.#stream.push(response);
      this.#stream.end();
    } else {
      this.#resolve(response);
    }
  }
}

/** Why a call's answer stream was ended for its reader (docs/limits.md, "Streams"). */
export function slowCallReader(tag: string): Error {
  return new Error(
    `sessiongate: a call's answer stream in session ${tag} was ended: more than 8 MiB waited unread (its client reads too slowly)`,
  );
}
