/**
 * @module server/sdk/session-state
 * `session.state`: small JSON values per session, persisted in the store, so they outlive a
 * restart (SQLite) or a move to another replica (Redis). Reads are local; each `set` writes
 * its one key, alone (keep values small).
 *
 * Keys starting with `sessiongate.` are the binding's own (the session-scoped calls it replays
 * into a rebuilt instance): hidden from `get` and `all`, refused by `set` and `delete`.
 */
import { OptionError } from '../../protocol/options.js';
import type { JsonObject, JsonValue } from '../../protocol/jsonrpc.js';
import { type SlotSchema, type StateSlot, stateSlot } from '../../session/state-slot.js';

const RESERVED_PREFIX = 'sessiongate.';

/** Where the state is written: one key at a time (undefined removes it). */
export interface StateWriter {
  writeState(key: string, value: JsonValue | undefined): Promise<void>;
}

/** A slot of the binding's own, under a reserved key. */
export function reservedSlot<T>(key: string, schema: SlotSchema<T>): StateSlot<T> {
  return stateSlot(RESERVED_PREFIX + key, schema);
}

function checkKey(key: string): void {
  if (key.startsWith(RESERVED_PREFIX))
    throw new OptionError('key', `sessiongate: state keys starting with "${RESERVED_PREFIX}" are reserved`);
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
    await this.#write(key, value);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.#write(key, undefined);
  }

  /** @internal The binding's own values (a `reservedSlot`). */
  reserved<T>(slot: StateSlot<T>): T | undefined {
    return slot.read(this.#values);
  }

  /** @internal */
  async setReserved<T>(slot: StateSlot<T>, value: T): Promise<void> {
    await this.#write(slot.key, slot.encode(value));
  }

  /**
   * Takes the stored state as read for a request (another replica may have changed it), unless
   * a local write is still on its way to the store.
   */
  refresh(stored: JsonObject): void {
    if (this.#writes === 0) this.#values = stored;
  }

  async #write(key: string, value: JsonValue | undefined): Promise<void> {
    const { [key]: _replaced, ...others } = this.#values;
    this.#values = value === undefined ? others : { ...others, [key]: value };
    this.#writes++;
    try {
      await this.#writer.writeState(key, value);
    } finally {
      this.#writes--;
    }
  }
}
