/**
 * @module protocol/cancellation
 * What an abort is to the code that listens for one: `aborted`, `reason`, and `abort`
 * listeners. An `AbortSignal` is one; `Cancellation` is another with no EventTarget behind it,
 * for the request path: an AbortController and its listeners per proxied request were about a
 * tenth of the gateway's CPU (bench/RESULTS.md, "Issue 36"). Everything that only listens takes
 * an `Abortable`, so either will do.
 */

/** The part of an AbortSignal a listener uses. */
export interface Abortable {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * An Abortable without EventTarget: a listener list, called once, in order, when aborted. A
 * listener that throws does not stop the others nor the code that aborts: its error goes to
 * `onListenerError`, by default thrown on its own later (as an EventTarget listener's would be).
 */
export class Cancellation implements Abortable {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] | undefined;
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = throwLater) {
    this.#onListenerError = onListenerError;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.#listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.#listeners;
    if (!listeners) return;
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }

  abort(reason: unknown = new Error('aborted')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    for (const listener of listeners ?? []) {
      try {
        listener();
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}

function throwLater(error: unknown): void {
  queueMicrotask(() => {
    throw error instanceof Error ? error : new Error(String(error));
  });
}
