/**
 * @module client/response-body
 * The body of an answer as the client reads it: fed chunk by chunk by undici's dispatch
 * handler (client/http.ts), read whole (`text`, `json`), as a stream of chunks (SSE), or thrown
 * away (`dump`). No Readable stream per answer: for the JSON answers of the hot path that was
 * about a third of the client's cost (bench/RESULTS.md).
 *
 * Read as a stream, at most HIGH_WATER_BYTES wait unread before the connection is paused.
 */
import type { Dispatcher } from 'undici';

const HIGH_WATER_BYTES = 1 << 20;
/** `dump` reads this much of an unwanted body to keep the connection, then closes it. */
const DUMP_LIMIT_BYTES = 128 * 1024;

export class ResponseBody implements AsyncIterable<Uint8Array> {
  #controller: Dispatcher.DispatchController | undefined;
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | undefined;
  #waiters: (() => void)[] = [];
  /** Read whole: never paused (the whole body is wanted anyway). */
  #whole = false;
  #dumping = false;
  #dumped = 0;
  /** Read whole: the most it may hold (a bigger answer is refused, not buffered). */
  #wholeLimit = Infinity;

  /** @internal The request's controller, to pause, resume and abort it. */
  attach(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  /** @internal */
  push(chunk: Buffer): void {
    if (this.#ended) return;
    if (this.#dumping) {
      this.#dumped += chunk.length;
      if (this.#dumped > DUMP_LIMIT_BYTES) this.destroy();
      return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#whole && this.#buffered > this.#wholeLimit) {
      this.destroy();
      this.#error = new BodyTooLargeError(this.#wholeLimit);
      return;
    }
    if (!this.#whole && this.#buffered > HIGH_WATER_BYTES) this.#controller?.pause();
    this.#wake();
  }

  /** @internal The body is complete. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  /** @internal The connection failed mid-body. */
  fail(error: Error): void {
    if (this.#ended) return;
    this.#error = error;
    this.#ended = true;
    this.#wake();
  }

  /** The whole body as UTF-8 text; past `maxBytes` it is refused (BodyTooLargeError) and the connection closed. */
  async text(maxBytes = Infinity): Promise<string> {
    this.#whole = true;
    this.#wholeLimit = maxBytes;
    if (this.#buffered > maxBytes) {
      this.destroy();
      this.#error = new BodyTooLargeError(maxBytes);
    }
    if (this.#controller?.paused) this.#controller.resume();
    while (!this.#ended) await this.#next();
    if (this.#error) throw this.#error;
    const chunks = this.#chunks.splice(0);
    this.#buffered = 0;
    return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
  }

  async json(maxBytes = Infinity): Promise<unknown> {
    return JSON.parse(await this.text(maxBytes)) as unknown;
  }

  /** Reads and drops the body (a small one keeps the connection reusable; a large one closes it). */
  async dump(): Promise<void> {
    this.#dumping = true;
    this.#dumped = this.#buffered;
    this.#chunks.length = 0;
    this.#buffered = 0;
    if (this.#dumped > DUMP_LIMIT_BYTES) this.destroy();
    else if (this.#controller?.paused) this.#controller.resume();
    while (!this.#ended) await this.#next();
  }

  /** Stops reading: the request is aborted and what was buffered is dropped. */
  destroy(): void {
    if (this.#ended) return;
    this.#error = new Error('sessiongate: response body destroyed');
    this.#ended = true;
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.#controller?.abort(this.#error);
    this.#wake();
  }

  /** Chunks as they arrive; leaving the loop early destroys the body. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        const chunk = this.#chunks.shift();
        if (chunk !== undefined) {
          this.#buffered -= chunk.length;
          if (this.#controller?.paused && this.#buffered <= HIGH_WATER_BYTES) this.#controller.resume();
          yield chunk;
          continue;
        }
        if (this.#error) throw this.#error;
        if (this.#ended) return;
        await this.#next();
      }
    } finally {
      this.destroy();
    }
  }

  #next(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

/** An answer bigger than the reader accepts (`text(maxBytes)`). */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the answer is larger than ${limit} bytes`);
  }
}
