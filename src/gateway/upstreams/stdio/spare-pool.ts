/**
 * @module gateway/upstreams/stdio/spare-pool
 * Children started before anyone needs them, so an initialize does not wait for a process
 * start. Every child (spare or not) is started through the spawn queue and written down in the
 * ledger while it runs.
 */
import type { ChannelSource } from '../message-channel.js';
import type { RequestContext } from '../../../server/application.js';
import type { ChildLedger } from './child-ledger.js';
import { SpawnQueue } from './spawn-queue.js';
import { type StdioCommand, StdioChild } from './stdio-child.js';

export interface SparePoolOptions {
  command: StdioCommand;
  /** Spares kept ready. */
  target: number;
  grace: number;
  ledger: ChildLedger | undefined;
  /** A spare's stderr line (it has no session yet). */
  onStderr: (line: string) => void;
  /**
   * Variables a session's child gets from the person it serves (stdio-upstream.ts,
   * `personalEnvironment`): then no spares are kept, each child is started for its person.
   */
  personal?: ((context: RequestContext) => Readonly<Record<string, string>>) | undefined;
}

export class SparePool implements ChannelSource {
  readonly #options: SparePoolOptions;
  readonly #queue = new SpawnQueue();
  readonly #ready: StdioChild[] = [];
  /** Spares waiting for a start slot. */
  readonly #coming = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: SparePoolOptions) {
    this.#options = options.personal ? { ...options, target: 0 } : options;
    this.refill();
  }

  /** A child for a session: a spare (ready, or at least started), else a start ahead of spare refills. */
  async take(context: RequestContext): Promise<StdioChild> {
    const { personal } = this.#options;
    if (personal) {
      // Read now, before the start waits its turn: a person without the variables gets no child.
      const env = { ...this.#options.command.env, ...personal(context) };
      return (await this.#queue.start('session', () => this.#spawn({ ...this.#options.command, env })))!;
    }
    return this.#ready.shift() ?? (await this.#queue.start('session', () => this.#spawn()))!;
  }

  /** Tops the pool up; called at start and after each initialize is answered. */
  refill(): void {
    while (!this.#closed && this.#ready.length + this.#coming.size < this.#options.target) {
      const coming = this.#queue
        .start('spare', () => (this.#closed ? undefined : this.#spawn()))
        .then((spare) => {
          this.#coming.delete(coming);
          if (spare) this.#keep(spare);
        });
      this.#coming.add(coming);
    }
  }

  /** Stops every spare, including those still waiting for a start slot. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#coming);
    await Promise.all(this.#ready.splice(0).map((spare) => spare.stop(this.#options.grace)));
  }

  #keep(spare: StdioChild): void {
    spare.bind({
      onMessage: () => {},
      onStderr: this.#options.onStderr,
      onExit: () => {
        const at = this.#ready.indexOf(spare);
        if (at >= 0) this.#ready.splice(at, 1);
      },
    });
    this.#ready.push(spare);
  }

  #spawn(command: StdioCommand = this.#options.command): StdioChild {
    const child = new StdioChild(command);
    const { ledger } = this.#options;
    if (ledger) {
      ledger.record(child.pid);
      void child.stopped.then(() => ledger.forget(child.pid));
    }
    return child;
  }
}
