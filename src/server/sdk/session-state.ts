/**
 * @module server/sdk/session-state
 * `session.state`: small JSON values per session, persisted in the store, so they outlive a
 * restart (SQLite) or a move to another replica (Redis). Reads are local; each `set` writes
 * the whole state object (keep it small).
 *
 * Keys starting with `sessiongate.` are the binding's own (the session-scoped calls it replays
 * into a rebuilt instance): hidden from `get` and `all`, refused by `set` and `delete`.
 */
import type { JsonObject, JsonValue } from '../../protocol/jsonrpc.js';

const RESERVED_PREFIX = 'sessiongate.';

/** Where the state is written: the session (any SessionHandle fits). */
export interface StateWriter {
  setState(state: JsonObject): Promise<void>;
}

/** A reserved value in a stored state object (what `SessionState.reserved` reads). */
export function reservedValue(values: JsonObject, key: string): JsonValue | undefined {
  return values[RESERVED_PREFIX + key];
}

function checkKey(key: string): void {
  if (key.startsWith(RESERVED_PREFIX)) throw new TypeError(`sessiongate: state keys starting with "${RESERVED_PREFIX}" are reserved`);
}

export class SessionState {
  #values: JsonObject;
  readonly #writer: StateWriter;
  #writes = 0;

  constructor(initial: JsonObject, writer: StateWriter) {
    this.#values = initial;
    this.#writer = writer;
  }

  get(key: string): JsonValue | undefined {
    return key.startsWith(RESERVED_PREFIX) ? undefined : this.#values[key];
  }

  /** Everything, as a copy. */
  all(): JsonObject {
    const copy: JsonObject = {};
    for (const [key, value] of Object.entries(this.#values)) if (!key.startsWith(RESERVED_PREFIX)) copy[key] = value;
    return copy;
  }

  /** Sets one value and persists the state; resolves once the store has it. */
  async set(key: string, value: JsonValue): Promise<void> {
    checkKey(key);
    await this.#write({ ...this.#values, [key]: value });
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    const { [key]: _gone, ...rest } = this.#values;
    await this.#write(rest);
  }

  /** @internal The binding's own values (reserved keys). */
  reserved(key: string): JsonValue | undefined {
    return reservedValue(this.#values, key);
  }

  /** @internal */
  async setReserved(key: string, value: JsonValue): Promise<void> {
    await this.#write({ ...this.#values, [RESERVED_PREFIX + key]: value });
  }

  /**
   * Takes the stored state as read for a request (another replica may have changed it), unless
   * a local write is still on its way to the store.
   */
  refresh(stored: JsonObject): void {
    if (this.#writes === 0) this.#values = stored;
  }

  async #write(values: JsonObject): Promise<void> {
    this.#values = values;
    this.#writes++;
    try {
      await this.#writer.setState(values);
    } finally {
      this.#writes--;
    }
  }
}
