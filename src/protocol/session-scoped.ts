/**
 * @module protocol/session-scoped
 * Calls whose effect lives in the server's session, not in their answer: a new session does not
 * have them, so whoever re-creates a session (the client after a 404, the gateway after a child
 * died or a restart) replays the ones that succeeded. The last log level wins; subscriptions
 * accumulate per URI and an unsubscribe removes one.
 */
import type { JsonRpcRequest } from './jsonrpc.js';

const SCOPED = new Set(['logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

export function isSessionScoped(method: string): boolean {
  return SCOPED.has(method);
}

export class ScopedCalls {
  #level: JsonRpcRequest | undefined;
  readonly #subscriptions = new Map<string, JsonRpcRequest>();

  /** Rebuilds the set from a `list()` kept elsewhere (a record's state, a snapshot). */
  static from(calls: readonly JsonRpcRequest[]): ScopedCalls {
    const scoped = new ScopedCalls();
    for (const call of calls) scoped.remember(call);
    return scoped;
  }

  /** Rebuilds the set from a stored `list()` as read back from a record (anything else: empty). */
  static fromStored(stored: unknown): ScopedCalls {
    return ScopedCalls.from(Array.isArray(stored) ? (stored as JsonRpcRequest[]) : []);
  }

  /** Records a call that succeeded; calls of other methods are ignored. */
  remember(request: JsonRpcRequest): void {
    const uri = request.params?.['uri'];
    if (request.method === 'logging/setLevel') this.#level = request;
    else if (request.method === 'resources/subscribe' && typeof uri === 'string') this.#subscriptions.set(uri, request);
    else if (request.method === 'resources/unsubscribe' && typeof uri === 'string') this.#subscriptions.delete(uri);
  }

  /** What to replay into a new session, in order. */
  list(): JsonRpcRequest[] {
    return [...(this.#level ? [this.#level] : []), ...this.#subscriptions.values()];
  }
}
