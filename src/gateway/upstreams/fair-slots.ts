/**
 * @module gateway/upstreams/fair-slots
 * The upstream's connections, shared fairly among sessions (docs/limits.md, "Requests"): at most
 * `capacity` exchanges run at once; past it each session waits in a line of its own and the lines
 * take turns, so one session's backlog never stands before another session's next request. A
 * session that floods holds at most what it had when the others arrived, and gets one more slot
 * per round, like everyone else.
 */
import { SHARED_POOL_CONNECTIONS } from '../../client/http.js';

/** Exchanges at once by default: the connections of the client's shared keep-alive pool. */
export const DEFAULT_UPSTREAM_CONCURRENCY = SHARED_POOL_CONNECTIONS;

/** Called with its slot already counted, so nobody else can take it meanwhile. */
type Waiter = () => void;

export class FairSlots {
  #running = 0;
  #waiting = 0;
  /** Each waiting session's line; a Map keeps insertion order, so it is also the ring of turns. */
  readonly #lines = new Map<string, Waiter[]>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new TypeError(`sessiongate: upstream concurrency must be a positive integer, got ${capacity}`);
  }

  /** Exchanges running now, sessions waiting for a turn and their requests (for metrics and tests). */
  get running(): number {
    return this.#running;
  }

  get waitingSessions(): number {
    return this.#lines.size;
  }

  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Runs `work` in `key`'s turn. If `signal` aborts while it waits, it leaves its line and the
   * promise rejects with the signal's reason; `work` never starts.
   */
  run<T>(key: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#running < this.capacity && this.#lines.size === 0) {
      this.#running++;
      return this.#execute(work);
    }
    return this.#wait(key, signal).then(() => this.#execute(work));
  }

  /** Runs `work` in a slot already counted, and frees the slot when it settles (or throws). */
  async #execute<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  #wait(key: string, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const line = this.#lines.get(key);
        const at = line?.indexOf(waiter) ?? -1;
        if (at >= 0) line!.splice(at, 1);
        if (line?.length === 0) this.#lines.delete(key);
        this.#waiting--;
        reject(abortError(signal!));
      };
      const waiter: Waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiting++;
      const line = this.#lines.get(key);
      if (line) line.push(waiter);
      else this.#lines.set(key, [waiter]);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A slot is free: the session whose turn it is takes it, then goes to the end of the ring. */
  #release(): void {
    this.#running--;
    const turn = this.#lines.entries().next();
    if (turn.done) return;
    const [key, line] = turn.value;
    const waiter = line.shift()!;
    this.#lines.delete(key);
    if (line.length > 0) this.#lines.set(key, line);
    this.#waiting--;
    this.#running++;
    waiter();
  }
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a turn at the upstream');
}
