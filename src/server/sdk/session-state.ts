/**
 * @module server/sdk/session-state
 * `session.state`: small JSON values per session, persisted in the store, so they outlive a
 * restart (SQLite) or a move to another replica (Redis). Reads are local; each `set` writes
 * the whole state object (keep it small).
 */
import type { JsonObject, JsonValue } from '../../protocol/jsonrpc.js';

export class SessionState {
  #values: JsonObject;
  readonly #persist: (state: JsonObject) => Promise<void>;
  #writes = 0;

  constructor(initial: JsonObject, persist: (state: JsonObject) => Promise<void>) {
    this.#values = { ...initial };
    this.#persist = persist;
  }

  get(key: string): JsonValue | undefined {
    return this.#values[key];
  }

  /** Everything, as a copy. */
  all(): JsonObject {
    return { ...this.#values };
  }

  /** Sets one value and persists the state; resolves once the store has it. */
  async set(key: string, value: JsonValue): Promise<void> {
    this.#values = { ...this.#values, [key]: value };
    await this.#write();
  }

  async delete(key: string): Promise<void> {
    const { [key]: _gone, ...rest } = this.#values;
    this.#values = rest;
    await this.#write();
  }

  /**
   * Takes the stored state as read for a request (another replica may have changed it), unless
   * a local write is still on its way to the store.
   */
  refresh(stored: JsonObject): void {
    if (this.#writes === 0) this.#values = stored;
  }

  async #write(): Promise<void> {
    this.#writes++;
    try {
      await this.#persist(this.#values);
    } finally {
      this.#writes--;
    }
  }
}
