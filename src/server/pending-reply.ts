/**
 * @module server/pending-reply
 * The answer to one client request as a peer produces it (an SDK instance in the binding, an
 * upstream in the gateway): if the response comes first it is a plain JSON reply; if the peer
 * sends anything related first (progress, logging, a server-to-client request), the reply
 * becomes a stream that ends with the response.
 */
import type { JsonRpcMessage, JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { Reply } from './application.js';
import { MessageQueue } from './message-queue.js';

export class PendingReply {
  readonly reply: Promise<Reply>;
  #resolve!: (reply: Reply) => void;
  #stream: MessageQueue<JsonRpcMessage> | undefined;

  constructor() {
    this.reply = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** A message related to the request, before its response: switch to a stream. */
  push(message: JsonRpcMessage): void {
    if (!this.#stream) {
      this.#stream = new MessageQueue<JsonRpcMessage>();
      this.#resolve(this.#stream);
    }
    this.#stream.push(message);
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
