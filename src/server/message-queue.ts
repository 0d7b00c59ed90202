/**
 * @module server/message-queue
 * An async queue of messages: producers `push` and `end`, one consumer iterates. `return()`
 * (the consumer going away) settles a pending `next()` at once, so nothing waits forever on a
 * stream whose client has left.
 *
 * With a `bound`, what waits unread is limited in bytes (docs/limits.md, "Streams"): past
 * `highBytes` the producer is asked to wait (`pressure()`), so a slow reader slows its source
 * (backpressure, end to end: the client's socket, this queue, the upstream's connection or the
 * child's stdout); a producer that cannot wait and a reader that never reads (past `maxBytes`)
 * end the queue instead of letting it grow without limit. An item is measured only when it has
 * to wait (its reader is not already waiting for it), so a reader that keeps up costs nothing.
 */
export interface QueueBound<T> {
  maxBytes: number;
  /** Past this many bytes unread, `pressure()` asks the producer to wait. */
  highBytes: number;
  sizeOf(item: T): number;
  /** The queue was ended because more than `maxBytes` waited unread. */
  onOverflow(): void;
}

export class MessageQueue<T> implements AsyncIterableIterator<T> {
  static #behind = 0;
  /** Queues of this process whose producers are waiting for their reader (a gauge). */
  static get behind(): number {
    return MessageQueue.#behind;
  }
  readonly #buffer: T[] = [];
  #waiting: ((result: IteratorResult<T>) => void) | undefined;
  #done = false;
  readonly #onClose: (() => void) | undefined;
  readonly #bound: QueueBound<T> | undefined;
  /** Sizes of the items in #buffer. */
  readonly #sizes: number[] = [];
  #bytes = 0;
  /** Producers waiting for the reader to catch up (see `pressure`). */
  #pressure: { promise: Promise<void>; release: () => void } | undefined;

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
    const size = bound.sizeOf(item);
    this.#sizes.push(size);
    this.#bytes += size;
    if (this.#bytes <= bound.maxBytes) return;
    this.#clear();
    this.end();
    bound.onOverflow();
  }

  /**
   * Undefined while the reader keeps up; past the bound's `highBytes` unread, a promise that
   * settles once the reader is down to a quarter of that (or the queue ended): the producer
   * stops reading its source until then.
   */
  pressure(): Promise<void> | undefined {
    if (this.#pressure) return this.#pressure.promise;
    if (this.#done || this.#bound === undefined || this.#bytes <= this.#bound.highBytes) return undefined;
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.#pressure = { promise, release };
    MessageQueue.#behind++;
    return promise;
  }

  #relieve(): void {
    const pressure = this.#pressure;
    if (pressure === undefined) return;
    this.#pressure = undefined;
    MessageQueue.#behind--;
    pressure.release();
  }

  /** Drops what waits unread. */
  #clear(): void {
    this.#buffer.length = 0;
    this.#sizes.length = 0;
    this.#bytes = 0;
  }

  /** Ends the stream after what is buffered has been read. */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#relieve();
    this.#onClose?.();
    if (this.#waiting && this.#buffer.length === 0) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#bound && this.#sizes.length > 0) {
      this.#bytes -= this.#sizes.shift()!;
      if (this.#pressure && this.#bytes <= this.#bound.highBytes / 4) this.#relieve();
    }
    const item = this.#buffer.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.#clear();
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** What one stream may hold unread before it is ended (docs/limits.md, "Streams"). */
export const STREAM_BUFFER_BYTES = 8 * 1024 * 1024;
/** Unread bytes past which a stream's source is paused (docs/limits.md, "Streams"). */
export const STREAM_HIGH_WATER_BYTES = 1024 * 1024;

/** The bound of a stream of JSON-RPC messages, measured as they would be written. */
export function streamBound<T>(onOverflow: () => void): QueueBound<T> {
  return {
    maxBytes: STREAM_BUFFER_BYTES,
    highBytes: STREAM_HIGH_WATER_BYTES,
    sizeOf: (item) => JSON.stringify(item).length,
    onOverflow,
  };
}
