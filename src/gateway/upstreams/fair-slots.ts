/**
 * @module gateway/upstreams/fair-slots
 * The upstream's connections, shared fairly among the people calling (docs/limits.md,
 * "Requests"): at most `capacity` exchanges run at once, and at most `perPrincipal` of them for
 * one person, so however many sessions and slow calls one person has, the rest of the slots
 * stay free for everybody else. Past either bound, requests wait in lines: one ring of turns
 * among people, and within each person one among their sessions. One person's backlog never
 * stands before another person's next request, nor one session's before their other session's.
 */
import { OptionError } from '../../protocol/options.js';
import type { Abortable } from '../../protocol/cancellation.js';
import { SHARED_POOL_CONNECTIONS } from '../../client/http.js';

/** Exchanges at once by default: the connections of the client's shared keep-alive pool. */
export const DEFAULT_UPSTREAM_CONCURRENCY = SHARED_POOL_CONNECTIONS;

/** People with nothing running kept in the count table before it is swept. */
const PEOPLE_KEPT = 4096;

/** Called with its slot already counted, so nobody else can take it meanwhile. */
type Waiter = { readonly principal: string; start(): void };

/** One person's waiting requests: a ring of their sessions' lines (a Map keeps insertion order). */
type PersonLine = Map<string, Waiter[]>;

export class FairSlots {
  readonly capacity: number;
  /** The most exchanges one person runs at once. */
  readonly perPrincipal: number;
  #running = 0;
  #waiting = 0;
  /**
   * Exchanges running per person. Entries at 0 stay (swept past PEOPLE_KEPT): adding and
   * deleting one per request would churn a long-lived table on the hot path (issue 36).
   */
  readonly #runningOf = new Map<string, number>();
  /** Each waiting person's line; the Map's order is the ring of turns. */
  readonly #lines = new Map<string, PersonLine>();

  /**
   * `perPrincipal` defaults to half the capacity (at least 1): one person alone still gets
   * half the upstream, and the other half always waits for everybody else.
   */
  constructor(capacity: number, perPrincipal = Math.max(1, Math.floor(capacity / 2))) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new OptionError('capacity', `sessiongate: upstream concurrency must be a positive integer, got ${capacity}`);
    if (!Number.isInteger(perPrincipal) || perPrincipal < 1 || perPrincipal > capacity)
      throw new OptionError(
        'perPrincipal',
        `sessiongate: the upstream share per principal must be an integer from 1 to ${capacity}, got ${perPrincipal}`,
      );
    this.capacity = capacity;
    this.perPrincipal = perPrincipal;
  }

  /** Exchanges running now, people waiting for a turn and their requests (for metrics and tests). */
  get running(): number {
    return this.#running;
  }

  get waitingSessions(): number {
    let sessions = 0;
    for (const line of this.#lines.values()) sessions += line.size;
    return sessions;
  }

  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Runs `work` in the turn of `session` and of its person (`principal`; null or not given: the
   * session is a person of its own, as anonymous callers cannot be told apart). If `signal`
   * aborts while it waits, it leaves its line and the promise rejects with the signal's
   * reason; `work` never starts. The keys are the record's own strings: nothing is made per call.
   */
  run<T>(session: string, work: () => Promise<T>, signal?: Abortable, principal?: string | null): Promise<T> {
    const person = principal ?? session;
    if (this.#waiting === 0 && this.#running < this.capacity && (this.#runningOf.get(person) ?? 0) < this.perPrincipal) {
      this.#take(person);
      return this.#execute(person, work);
    }
    return this.#wait(person, session, signal).then(() => this.#execute(person, work));
  }

  /** Runs `work` in a slot already counted, and frees the slot when it settles (or throws). */
  async #execute<T>(person: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      this.#release(person);
    }
  }

  #take(person: string): void {
    this.#running++;
    this.#runningOf.set(person, (this.#runningOf.get(person) ?? 0) + 1);
  }

  #wait(person: string, session: string, signal: Abortable | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const line = this.#lines.get(person);
        const own = line?.get(session);
        const at = own?.indexOf(waiter) ?? -1;
        if (at >= 0) own!.splice(at, 1);
        if (own?.length === 0) line!.delete(session);
        if (line?.size === 0) this.#lines.delete(person);
        this.#waiting--;
        reject(abortError(signal!));
      };
      const waiter: Waiter = {
        principal: person,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.#waiting++;
      let line = this.#lines.get(person);
      if (!line) this.#lines.set(person, (line = new Map<string, Waiter[]>()));
      const own = line.get(session);
      if (own) own.push(waiter);
      else line.set(session, [waiter]);
      signal?.addEventListener('abort', onAbort, { once: true });
      // A free slot may be waiting for somebody under their share: this request, perhaps.
      this.#dispatch();
    });
  }

  #release(person: string): void {
    this.#running--;
    this.#runningOf.set(person, this.#runningOf.get(person)! - 1);
    if (this.#runningOf.size > PEOPLE_KEPT) this.#sweep();
    if (this.#waiting > 0) this.#dispatch();
  }

  /** Forgets the people with nothing running (their entries were kept to spare the table churn). */
  #sweep(): void {
    for (const [person, running] of this.#runningOf) if (running === 0) this.#runningOf.delete(person);
  }

  /**
   * While a slot is free, the next person in the ring under their share takes it (their next
   * session in turn); both go to the end of their rings. People at their share keep their place.
   */
  #dispatch(): void {
    while (this.#running < this.capacity && this.#waiting > 0) {
      let next: Waiter | undefined;
      for (const [person, line] of this.#lines) {
        if ((this.#runningOf.get(person) ?? 0) >= this.perPrincipal) continue;
        const [session, own] = line.entries().next().value!;
        next = own.shift()!;
        line.delete(session);
        if (own.length > 0) line.set(session, own);
        this.#lines.delete(person);
        if (line.size > 0) this.#lines.set(person, line);
        break;
      }
      if (!next) return; // everybody waiting is at their share
      this.#waiting--;
      this.#take(next.principal);
      next.start();
    }
  }
}

function abortError(signal: Abortable): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a turn at the upstream');
}
