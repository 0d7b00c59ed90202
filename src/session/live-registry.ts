/**
 * @module session/live-registry
 * The process-local half of sessions: SDK instances, child processes, open streams, each with
 * a disposer. A cache of the record, never the truth. Disposers always all run, even when one
 * throws or rejects.
 */
import type { EndReason } from '../store/record.js';

/**
 * Why process-local resources are freed: the session ended (an EndReason), or it `moved` to
 * another replica and lives on there (a resource shared with the peer, such as an upstream
 * session, must then be let go of, not ended).
 */
export type DisposeReason = EndReason | 'moved';

/**
 * Frees one resource. A function, or an object with `dispose` (a long-lived object can register
 * itself and keep no closure for it).
 */
export type Disposer = ((reason: DisposeReason) => void | Promise<void>) | { dispose(reason: DisposeReason): void | Promise<void> };

export class LiveRegistry {
  /** One disposer as itself (the common case, nothing more kept per session), several as a set. */
  readonly #entries = new Map<string, Disposer | Set<Disposer>>();
  /** Disposals under way, so `disposeAll` also waits for those started elsewhere. */
  readonly #settling = new Set<Promise<void>>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void = () => {}) {
    this.#onError = onError;
  }

  /** Registers a resource of `sessionId`; returns a function that detaches it (no dispose). */
  attach(sessionId: string, disposer: Disposer): () => void {
    const current = this.#entries.get(sessionId);
    if (current === undefined) this.#entries.set(sessionId, disposer);
    else if (current instanceof Set) current.add(disposer);
    else this.#entries.set(sessionId, new Set([current, disposer]));
    return () => this.detach(sessionId, disposer);
  }

  /** Forgets a resource without disposing it (it ended on its own). */
  detach(sessionId: string, disposer: Disposer): void {
    const current = this.#entries.get(sessionId);
    if (current === disposer) this.#entries.delete(sessionId);
    else if (current instanceof Set) {
      current.delete(disposer);
      if (current.size === 0) this.#entries.delete(sessionId);
    }
  }

  /** The session's resource that `match` accepts, if it has one here. */
  find(sessionId: string, match: (disposer: Disposer) => boolean): Disposer | undefined {
    const current = this.#entries.get(sessionId);
    if (current === undefined) return undefined;
    if (!(current instanceof Set)) return match(current) ? current : undefined;
    for (const disposer of current) if (match(disposer)) return disposer;
    return undefined;
  }

  has(sessionId: string): boolean {
    return this.#entries.has(sessionId);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Runs every disposer of the session; resolves when all have settled. */
  async dispose(sessionId: string, reason: DisposeReason): Promise<void> {
    const entry = this.#entries.get(sessionId);
    if (!entry) return;
    this.#entries.delete(sessionId);
    const settled = Promise.all(
      (entry instanceof Set ? [...entry] : [entry]).map(async (disposer) => {
        try {
          await (typeof disposer === 'function' ? disposer(reason) : disposer.dispose(reason));
        } catch (error) {
          this.#onError(error);
        }
      }),
    ).then(() => void this.#settling.delete(settled));
    this.#settling.add(settled);
    await settled;
  }

  /** Disposes every session's resources, and waits for disposals already under way. */
  async disposeAll(reason: EndReason): Promise<void> {
    await Promise.all([...[...this.#entries.keys()].map((id) => this.dispose(id, reason)), ...this.#settling]);
  }
}
