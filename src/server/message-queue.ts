/**
 * @module server/message-queue
 * An async queue of messages: producers `push` and `end`, one consumer iterates. `return()`
 * (the consumer going away) settles a pending `next()` at once, so nothing waits forever on a
 * stream whose client has left.
 *
 * With a `bound`, what waits unread is limited in bytes (docs/limits.md, "Streams"): a reader
 * that falls behind (a client not reading its stream) ends the queue, instead of letting it
 * grow without limit. Items are measured only once a backlog forms, so a reader that keeps up
 * costs nothing.
 */
export interface QueueBound<T> {
  maxBytes: number;
  sizeOf(item: T): number;
  /** The queue was ended because more than `maxBytes` waited unread. */
  onOverflow(): void;
}

/** Items waiting before they are measured against the bound. */
const UNMEASURED = 16;

export class MessageQueue<T> implements AsyncIterableIterator<T> {
  readonly #buffer: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #done = false;
  readonly #onClose: (() => void) | undefined;
  readonly #bound: QueueBound<T> | undefined;
  /** Sizes of the items in #buffer (0 for those not measured). */
  readonly #sizes: number[] = [];
  #bytes = 0;

  /** `onClose` runs once when the queue ends from either side. */
  constructor(onClose?: () => void, bound?: QueueBound<T>) {
    this.#onClose = onClose;
    this.#bound = bound;
  }

  get closed(): boolean {
    return this.#done;
  }

  push(item: T): void {
    if (this.#done) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting({ value: item, done: false });
    } else {
      this.#buffer.push(item);
      if (this.#bound) this.#measure(item);
    }
  }

  #measure(item: T): void {
    const bound = this.#bound!;
    const size = this.#buffer.length > UNMEASURED ? bound.sizeOf(item) : 0;
    this.#sizes.push(size);
    this.#bytes += size;
    if (this.#bytes <= bound.maxBytes) return;
    this.#buffer.length = 0;
    this.#sizes.length = 0;
    this.#bytes = 0;
    this.end();
    bound.onOverflow();
  }

  /** Ends the stream after what is buffered has been read. */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#onClose?.();
    if (this.#waiting && this.#buffer.length === 0) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#bound && this.#sizes.length > 0) this.#bytes -= this.#sizes.shift()!;
    const item = this.#buffer.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.#buffer.length = 0;
    this.#sizes.length = 0;
    this.#bytes = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** What one stream may hold unread before it is ended (docs/limits.md, "Streams"). */
export const STREAM_BUFFER_BYTES = 8 * 1024 * 1024;

/** The bound of a stream of JSON-RPC messages, measured as they would be written. */
export function streamBound<T>(onOverflow: () => void): QueueBound<T> {
  return { maxBytes: STREAM_BUFFER_BYTES, sizeOf: (item) => JSON.stringify(item).length, onOverflow };
}
