/**
 * @module server/in-flight
 * Every request the application is answering, so that none can hold anything forever
 * (docs/limits.md, "Requests"):
 * - a deadline: a request the application has not answered within `requestTimeoutMs` of its
 *   last sign of life (it was sent, or a message of its stream went out, progress included) is
 *   answered -32001 by the server itself;
 * - its session's end (DELETE, expiry, eviction, an end on another replica) answers it at once;
 * - caps: a session, and a principal (anonymous callers together count as one), have at most
 *   so many requests in flight; past them 429.
 * The application hears of an early end through `context.signal` (aborted with the reason), so
 * it can cancel what it started (an upstream call, a child's request).
 *
 * The deadline is checked by one sweep for all requests (at a quarter of the timeout, at most
 * every second), not a timer per request: a request costs a few pointer updates and one promise.
 *
 * Flights are kept in intrusive lists (every flight, and each session's), never in a long-lived
 * Set or Map: a request-scoped object added to and deleted from a collection that lives in the
 * old generation made every young collection promote the flights in it, pausing 10 ms instead
 * of 2 under load (bench/RESULTS.md, "Issue 36"). A session's list head is kept while the session
 * has flights and dropped by the sweep, not per request.
 */
import { errorResponse } from '../protocol/answers.js';
import { SessiongateError } from '../protocol/failures.js';
import { type Abortable, Cancellation } from '../protocol/cancellation.js';
import type { JsonRpcMessage, JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';
import { type EarlyEnd, isStreamReply, type Reply } from './application.js';

export interface InFlightLimits {
  /** ms without a sign of life before a request is answered -32001; 0 for none. */
  requestTimeoutMs: number;
  /** Requests in flight per session. */
  perSession: number;
  /** Requests in flight per principal (anonymous callers together are one principal). */
  perPrincipal: number;
}

export const DEFAULT_IN_FLIGHT: InFlightLimits = { requestTimeoutMs: 120_000, perSession: 32, perPrincipal: 256 };

/** One request in flight. */
export class Flight {
  lastSign: number;
  /** @internal Links in the list of every flight and in the session's (in-flight.ts). */
  previous: Flight | undefined;
  next: Flight | undefined;
  previousInSession: Flight | undefined;
  nextInSession: Flight | undefined;
  /** @internal The session list it is in (its own, even after the session's head was dropped). */
  inSession: { head: Flight | undefined; count: number } | undefined;
  listed = false;
  ended = false;
  #endedEarly = false;
  #end: ((response: JsonRpcResponse | undefined) => void) | undefined;
  /** The application's `cancel`, told when the request ends early (no AbortSignal needed). */
  cancel: ((reason: EarlyEnd) => void) | undefined;
  #controller: AbortController | undefined;
  #cancellation: Cancellation | undefined;
  #clientSignal: AbortSignal | undefined;
  readonly #client: { readonly signal: AbortSignal } | undefined;
  readonly #clock: () => number;

  /** `client`: the request's exchange, whose signal aborts when the client leaves; undefined when its leaving does not end the request. */
  constructor(
    readonly requestId: RequestId,
    readonly sessionId: string | undefined,
    readonly principal: string | null,
    clock: () => number,
    client: { readonly signal: AbortSignal } | undefined,
  ) {
    this.#clock = clock;
    this.lastSign = clock();
    this.#client = client;
  }

  /**
   * Aborted when the client leaves or the request ends early: an AbortSignal that follows
   * `cancellation`, for applications that want one. Made on first read: most never read it.
   */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = (this.#controller = new AbortController());
      const cancellation = this.#cancellationMade();
      if (cancellation.aborted) controller.abort(cancellation.reason);
      else cancellation.addEventListener('abort', () => controller.abort(cancellation.reason));
    }
    return this.#controller.signal;
  }

  /**
   * The one record of the request ending early or its client leaving, without an EventTarget
   * (protocol/cancellation.ts): what the gateway's upstreams listen to. Made on first read.
   */
  get cancellation(): Abortable {
    return this.#cancellationMade();
  }

  #cancellationMade(): Cancellation {
    if (!this.#cancellation) {
      const cancellation = (this.#cancellation = new Cancellation());
      if (this.#endedEarly) cancellation.abort(new Error('the request ended early'));
      if (this.ended || !this.#client) return cancellation;
      const client = this.#client.signal;
      if (client.aborted) cancellation.abort(client.reason);
      else {
        this.#clientSignal = client;
        client.addEventListener('abort', this.#onClientGone, { once: true });
      }
    }
    return this.#cancellation;
  }

  readonly #onClientGone = (): void => {
    this.#cancellation?.abort(this.#clientSignal?.reason);
  };

  /** A sign of life without a message (RequestContext.keepAlive): the deadline counts from now. */
  keepAlive(): void {
    this.lastSign = this.#clock();
  }

  /** `end` gets the server's own answer if the request ends before the application's. */
  onEarlyEnd(end: (response: JsonRpcResponse | undefined) => void): void {
    this.#end = end;
  }

  get endedEarly(): boolean {
    return this.#endedEarly;
  }

  /**
   * Ends the request with `response` in place of the application's answer; with none (the
   * client cancelled it), its stream just ends.
   */
  endEarly(response: JsonRpcResponse | undefined, reason: EarlyEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.#endedEarly = true;
    this.#end?.(response);
    // The signal, when one was made, follows the cancellation.
    this.#cancellation?.abort(new Error(`the request ended early: ${reason}`));
    this.cancel?.(reason);
  }

  /** The application answered (or the request is over): nothing more to listen to. */
  finish(): void {
    this.ended = true;
    this.#clientSignal?.removeEventListener('abort', this.#onClientGone);
  }
}

/** One session's flights: a list head and a count, kept while the session has flights. */
class SessionFlights {
  head: Flight | undefined;
  count = 0;
}

export class InFlight {
  readonly #limits: InFlightLimits;
  readonly #now: () => number;
  #head: Flight | undefined;
  #count = 0;
  readonly #bySession = new Map<string, SessionFlights>();
  readonly #byPrincipal = new Map<string | null, number>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(limits: InFlightLimits, now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  /** How long a request may go without an answer or progress (0: no deadline). */
  get requestTimeoutMs(): number {
    return this.#limits.requestTimeoutMs;
  }

  /**
   * Admits a request, or throws SG_TOO_MANY_REQUESTS past a cap. `client`: the request's
   * exchange, whose signal aborts when the client leaves (read only if needed); undefined when
   * the client leaving does not end the request (a resumable call).
   */
  admit(
    requestId: RequestId,
    sessionId: string | undefined,
    principal: string | null,
    client: { readonly signal: AbortSignal } | undefined,
  ): Flight {
    let ofSession: SessionFlights | undefined;
    if (sessionId !== undefined) {
      ofSession = this.#bySession.get(sessionId);
      if (!ofSession) this.#bySession.set(sessionId, (ofSession = new SessionFlights()));
    }
    if (ofSession && ofSession.count >= this.#limits.perSession) {
      throw new SessiongateError(
        'SG_TOO_MANY_REQUESTS',
        `Too many requests in flight in this session (at most ${this.#limits.perSession})`,
        RETRY,
      );
    }
    const ofPrincipal = this.#byPrincipal.get(principal) ?? 0;
    if (ofPrincipal >= this.#limits.perPrincipal) {
      throw new SessiongateError(
        'SG_TOO_MANY_REQUESTS',
        `Too many requests in flight for this caller (at most ${this.#limits.perPrincipal})`,
        RETRY,
      );
    }
    const flight = new Flight(requestId, sessionId, principal, this.#now, client);
    flight.listed = true;
    flight.next = this.#head;
    if (this.#head) this.#head.previous = flight;
    this.#head = flight;
    this.#count++;
    if (ofSession) {
      flight.inSession = ofSession;
      flight.nextInSession = ofSession.head;
      if (ofSession.head) ofSession.head.previousInSession = flight;
      ofSession.head = flight;
      ofSession.count++;
    }
    this.#byPrincipal.set(principal, ofPrincipal + 1);
    this.#startSweeping();
    return flight;
  }

  /**
   * Runs `handle` for the flight: its reply, or the server's own answer if the request ends
   * first (then the application's late answer is dropped). One promise per request.
   */
  run(flight: Flight, handle: () => Promise<Reply>, cancel?: (reason: EarlyEnd) => void): Promise<Reply> {
    flight.cancel = cancel;
    return new Promise<Reply>((resolve, reject) => {
      flight.onEarlyEnd((response) => {
        this.#release(flight);
        resolve(response ?? cancelledAnswer(flight.requestId));
      });
      const settled = (answer: Reply): void => {
        if (flight.endedEarly) {
          if (isStreamReply(answer))
            void answer[Symbol.asyncIterator]()
              .return?.()
              ?.catch(() => {});
          return;
        }
        if (isStreamReply(answer)) return resolve(this.#boundStream(flight, answer));
        this.#release(flight);
        resolve(answer);
      };
      const failed = (error: Error): void => {
        this.#release(flight);
        reject(error);
      };
      try {
        handle().then(settled, failed);
      } catch (error) {
        failed(error as Error);
      }
    });
  }

  /** A stream reply: each message is a sign of life; an early end closes it with the server's answer. */
  #boundStream(flight: Flight, stream: AsyncIterable<JsonRpcMessage>): AsyncIterableIterator<JsonRpcMessage> {
    const source = stream[Symbol.asyncIterator]();
    const early = new Promise<JsonRpcResponse | undefined>((resolve) => flight.onEarlyEnd(resolve));
    let done = false;
    const finish = (): void => {
      done = true;
      this.#release(flight);
    };
    return {
      next: async () => {
        if (done) return { value: undefined, done: true };
        const next = await Promise.race([source.next(), early.then((response) => ({ early: response }))]);
        if ('early' in next) {
          finish();
          void source.return?.()?.catch(() => {});
          if (next.early === undefined) return { value: undefined, done: true };
          return { value: next.early, done: false };
        }
        if (next.done) finish();
        else flight.lastSign = this.#now();
        return next;
      },
      return: async () => {
        finish();
        void source.return?.()?.catch(() => {});
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Answers every request of a session that ended (`atShutdown`: it ended with the process). */
  endSession(sessionId: string, atShutdown = false): void {
    for (const flight of this.#flightsOf(sessionId)) {
      if (atShutdown) flight.endEarly(shuttingDown(flight.requestId), 'shutdown');
      else flight.endEarly(errorResponse(flight.requestId, 'SG_SESSION_ENDED'), 'session-ended');
    }
    this.#bySession.delete(sessionId);
  }

  /**
   * The client cancelled the request `requestId` of the session (`notifications/cancelled`):
   * it ends, its stream without a response (MCP: a cancelled request is not answered).
   */
  cancel(sessionId: string, requestId: RequestId): void {
    for (const flight of this.#flightsOf(sessionId)) {
      if (flight.requestId === requestId) flight.endEarly(undefined, 'cancelled');
    }
  }

  /** Answers every request in flight (shutdown past its grace). */
  endAll(): void {
    for (const flight of this.#every()) flight.endEarly(shuttingDown(flight.requestId), 'shutdown');
    this.close();
  }

  close(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** A copy of the session's flights (ending one changes the list). */
  #flightsOf(sessionId: string): Flight[] {
    const flights: Flight[] = [];
    for (let flight = this.#bySession.get(sessionId)?.head; flight; flight = flight.nextInSession) flights.push(flight);
    return flights;
  }

  /** A copy of every flight. */
  #every(): Flight[] {
    const flights: Flight[] = [];
    for (let flight = this.#head; flight; flight = flight.next) flights.push(flight);
    return flights;
  }

  #release(flight: Flight): void {
    if (!flight.listed) return;
    flight.listed = false;
    flight.finish();
    if (flight.previous) flight.previous.next = flight.next;
    else this.#head = flight.next;
    if (flight.next) flight.next.previous = flight.previous;
    flight.previous = flight.next = undefined;
    this.#count--;
    const ofSession = flight.inSession;
    if (ofSession) {
      flight.inSession = undefined;
      if (flight.previousInSession) flight.previousInSession.nextInSession = flight.nextInSession;
      else ofSession.head = flight.nextInSession;
      if (flight.nextInSession) flight.nextInSession.previousInSession = flight.previousInSession;
      ofSession.count--;
    }
    flight.previousInSession = flight.nextInSession = undefined;
    const count = (this.#byPrincipal.get(flight.principal) ?? 1) - 1;
    if (count === 0) this.#byPrincipal.delete(flight.principal);
    else this.#byPrincipal.set(flight.principal, count);
  }

  #startSweeping(): void {
    if (this.#sweeper) return;
    // Without a deadline the sweep still runs, to let go of the list heads of sessions without flights.
    const timeout = this.#limits.requestTimeoutMs;
    this.#sweeper = setInterval(() => this.#sweep(), timeout > 0 ? Math.min(1000, Math.max(10, timeout / 4)) : 1000);
    this.#sweeper.unref();
  }

  #sweep(): void {
    const timeout = this.#limits.requestTimeoutMs;
    if (timeout > 0) {
      const oldest = this.#now() - timeout;
      const seconds = Math.round(timeout / 100) / 10;
      for (const flight of this.#every()) {
        if (flight.lastSign > oldest) continue;
        flight.endEarly(
          errorResponse(flight.requestId, 'SG_REQUEST_TIMEOUT', `Request timed out (no answer or progress for ${seconds} s)`),
          'timeout',
        );
      }
    }
    // Sessions without flights let go of their list heads here, once a sweep, not per request.
    for (const [sessionId, ofSession] of this.#bySession) if (ofSession.count === 0) this.#bySession.delete(sessionId);
    if (this.#count === 0) this.close();
  }
}

const RETRY = { headers: { 'retry-after': '1' } };

/** The POST of a request cancelled before any answer still needs one. */
function cancelledAnswer(id: RequestId): JsonRpcResponse {
  return errorResponse(id, 'SG_REQUEST_CANCELLED');
}

function shuttingDown(id: RequestId): JsonRpcResponse {
  return errorResponse(id, 'SG_SHUTTING_DOWN');
}
