/**
 * @module gateway/session-context
 * A downstream request's context with another view of its session: what an upstream
 * application sees when the gateway gives it a session of the gateway's making (a sessionless
 * client's conversation) or its own part of one (a federated server's view). Everything else
 * (principal, identity, signal, headers, keep-alive) is the request's.
 */
import type { Abortable } from '../protocol/cancellation.js';
import type { Identity, RequestContext, RequestTimings, SessionHandle } from '../server/application.js';
import type { RequestKey } from '../server/request-key.js';

export class SessionContext implements RequestContext {
  readonly #request: RequestContext;
  readonly session: SessionHandle;
  readonly protocolVersion: string;

  /** `protocolVersion`: the session's revision when it is not the request's (a conversation's). */
  constructor(request: RequestContext, session: SessionHandle, protocolVersion = request.protocolVersion) {
    this.#request = request;
    this.session = session;
    this.protocolVersion = protocolVersion;
  }
  get principal(): string | null {
    return this.#request.principal;
  }
  get clientSessionId(): string | undefined {
    return this.#request.clientSessionId;
  }
  get identity(): Identity | undefined {
    return this.#request.identity;
  }
  get timings(): RequestTimings | undefined {
    return this.#request.timings;
  }
  get signal(): AbortSignal {
    return this.#request.signal;
  }
  get cancellation(): Abortable {
    return this.#request.cancellation ?? this.#request.signal;
  }
  keepAlive(): void {
    this.#request.keepAlive?.();
  }
  /** The request's own values: a stage inside sees what one outside left, and the other way round. */
  get<T>(key: RequestKey<T>): T | undefined {
    return this.#request.get(key);
  }
  set<T>(key: RequestKey<T>, value: T): void {
    this.#request.set(key, value);
  }
  header(name: string): string | undefined {
    return this.#request.header(name);
  }
  headers(): Record<string, string | string[] | undefined> {
    return this.#request.headers();
  }
}
