/**
 * @module server/message-queue
 * An async queue of messages: producers `push` and `end`, one consumer iterates. `return()`
 * (the consumer going away) settles a pending `next()` at once, so nothing waits forever on a
 * stream whose client has left.
 */
export class MessageQueue<T> implements AsyncIterableIterator<T> {
  readonly #buffer: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #done = false;
  readonly #onClose: (() => void) | undefined;

  /** `onClose` runs once when the queue ends from either side. */
  constructor(onClose?: () => void) {
    this.#onClose = onClose;
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
    }
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
    const item = this.#buffer.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.#buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
