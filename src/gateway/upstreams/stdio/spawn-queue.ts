/**
 * @module gateway/upstreams/stdio/spawn-queue
 * Child starts, a few at a time. A stdio MCP server's start is mostly CPU (loading its runtime
 * and libraries); twenty started at once share the cores and all finish late together, so
 * every one of twenty initializes waits for the slowest. Started a core's worth at a time, in
 * order, they finish one after another: the first clients are served early. A start holds its
 * slot until the child is ready (answered its warm-up ping, exited, or timed out). Sessions
 * waiting for a child go before spares being refilled.
 */
import { availableParallelism } from 'node:os';
import type { StdioChild } from './stdio-child.js';

export type SpawnPriority = 'session' | 'spare';

export class SpawnQueue {
  readonly #limit: number;
  #running = 0;
  readonly #waiting: Record<SpawnPriority, (() => void)[]> = { session: [], spare: [] };

  /** `limit`: starts under way at once. Default: the number of cores. */
  constructor(limit: number = availableParallelism()) {
    this.#limit = Math.max(1, limit);
  }

  /**
   * Calls `spawn` when a slot is free and resolves with its child at once (it may still be
   * loading). `spawn` may decline (undefined: no longer wanted), which frees the slot.
   */
  async start(priority: SpawnPriority, spawn: () => StdioChild | undefined): Promise<StdioChild | undefined> {
    if (this.#running >= this.#limit) await new Promise<void>((resolve) => this.#waiting[priority].push(resolve));
    else this.#running++;
    let child: StdioChild | undefined;
    try {
      child = spawn();
    } finally {
      if (child) void child.ready.then(() => this.#release());
      else this.#release();
    }
    return child;
  }

  #release(): void {
    const next = this.#waiting.session.shift() ?? this.#waiting.spare.shift();
    // The slot passes straight to the next start, so the count stays as it is.
    if (next) next();
    else this.#running--;
  }
}
