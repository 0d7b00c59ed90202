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
 * every second), not a timer per request: a request costs a few map updates and one promise.
 */
import { JSONRPC, SessiongateError } from '../protocol/failures.js';
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
  ended = false;
  #endedEarly = false;
  #end: ((response: JsonRpcResponse | undefined) => void) | undefined;
  /** The application's `cancel`, told when the request ends early (no AbortSignal needed). */
  cancel: ((reason: EarlyEnd) => void) | undefined;
  #controller: AbortController | undefined;
  #clientSignal: AbortSignal | undefined;
  readonly #client: { readonly signal: AbortSignal };
  readonly #clock: () => number;

  constructor(
    readonly requestId: RequestId,
    readonly sessionId: string | undefined,
    readonly principal: string | null,
    clock: () => number,
    client: { readonly signal: AbortSignal },
  ) {
    this.#clock = clock;
    this.lastSign = clock();
    this.#client = client;
  }

  /**
   * Aborted when the client leaves or the request ends early. Made on first read: most
   * applications never read it.
   */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = (this.#controller = new AbortController());
      if (this.#endedEarly) controller.abort(new Error('the request ended early'));
      if (this.ended) return controller.signal;
      this.#clientSignal = this.#client.signal;
      if (this.#clientSignal.aborted) controller.abort(this.#clientSignal.reason);
      else this.#clientSignal.addEventListener('abort', this.#onClientGone, { once: true });
    }
    return this.#controller.signal;
  }

  readonly #onClientGone = (): void => this.#controller?.abort(this.#clientSignal?.reason);

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
    this.#controller?.abort(new Error(`the request ended early: ${reason}`));
    this.cancel?.(reason);
  }

  /** The application answered (or the request is over): nothing more to listen to. */
  finish(): void {
    this.ended = true;
    this.#clientSignal?.removeEventListener('abort', this.#onClientGone);
  }
}

export class InFlight {
  readonly #limits: InFlightLimits;
  readonly #now: () => number;
  /** A session's flights: one as itself (the common case, nothing more allocated), several as a set. */
  readonly #bySession = new Map<string, Flight | Set<Flight>>();
  readonly #byPrincipal = new Map<string | null, number>();
  readonly #all = new Set<Flight>();
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
   * exchange, whose signal aborts when the client leaves (read only if needed).
   */
  admit(requestId: RequestId, sessionId: string | undefined, principal: string | null, client: { readonly signal: AbortSignal }): Flight {
    const ofSession = sessionId === undefined ? undefined : this.#bySession.get(sessionId);
    if (ofSession && (ofSession instanceof Set ? ofSession.size : 1) >= this.#limits.perSession) {
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
    if (sessionId !== undefined) {
      if (ofSession === undefined) this.#bySession.set(sessionId, flight);
      else if (ofSession instanceof Set) ofSession.add(flight);
      else this.#bySession.set(sessionId, new Set([ofSession, flight]));
    }
    this.#byPrincipal.set(principal, ofPrincipal + 1);
    this.#all.add(flight);
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
      else
        flight.endEarly(
          failure(flight.requestId, JSONRPC.BAD_REQUEST, 'The session ended while the request was in flight', 'SG_SESSION_ENDED'),
          'session-ended',
        );
    }
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
    for (const flight of [...this.#all]) flight.endEarly(shuttingDown(flight.requestId), 'shutdown');
    this.close();
  }

  close(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** A copy of the session's flights (ending one changes the set). */
  #flightsOf(sessionId: string): Flight[] {
    const ofSession = this.#bySession.get(sessionId);
    return ofSession instanceof Set ? [...ofSession] : ofSession ? [ofSession] : [];
  }

  #release(flight: Flight): void {
    if (!this.#all.delete(flight)) return;
    flight.finish();
    if (flight.sessionId !== undefined) {
      const ofSession = this.#bySession.get(flight.sessionId);
      if (ofSession === flight) this.#bySession.delete(flight.sessionId);
      else if (ofSession instanceof Set) {
        ofSession.delete(flight);
        if (ofSession.size === 0) this.#bySession.delete(flight.sessionId);
      }
    }
    const count = (this.#byPrincipal.get(flight.principal) ?? 1) - 1;
    if (count === 0) this.#byPrincipal.delete(flight.principal);
    else this.#byPrincipal.set(flight.principal, count);
  }

  #startSweeping(): void {
    const timeout = this.#limits.requestTimeoutMs;
    if (this.#sweeper || timeout <= 0) return;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(1000, Math.max(10, timeout / 4)));
    this.#sweeper.unref();
  }

  #sweep(): void {
    const timeout = this.#limits.requestTimeoutMs;
    const oldest = this.#now() - timeout;
    const seconds = Math.round(timeout / 100) / 10;
    for (const flight of this.#all) {
      if (flight.lastSign > oldest) continue;
      flight.endEarly(
        failure(flight.requestId, REQUEST_TIMEOUT, `Request timed out (no answer or progress for ${seconds} s)`, 'SG_REQUEST_TIMEOUT'),
        'timeout',
      );
    }
    if (this.#all.size === 0) this.close();
  }
}

const RETRY = { headers: { 'retry-after': '1' } };

/** The code MCP's SDKs use for a request that timed out. */
const REQUEST_TIMEOUT = -32001;

/** The POST of a request cancelled before any answer still needs one. */
function cancelledAnswer(id: RequestId): JsonRpcResponse {
  return failure(id, JSONRPC.BAD_REQUEST, 'The request was cancelled', 'SG_REQUEST_CANCELLED');
}

function shuttingDown(id: RequestId): JsonRpcResponse {
  return failure(id, JSONRPC.INTERNAL_ERROR, 'The server is shutting down', 'SG_SHUTTING_DOWN');
}

function failure(id: RequestId, code: number, message: string, stableCode: string): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message, data: { code: stableCode } } };
}
