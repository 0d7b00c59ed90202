/**
 * @module session/state-slot
 * One named, typed part of a session's `state`: an application declares it once with a schema,
 * reads it validated from any record, and writes it alone. Each store writes one key
 * atomically (docs/ARCHITECTURE.md, "Session state"), so two parts written at once never lose
 * each other, and a value read back after a restart or an upgrade is checked, not cast.
 */
import { OptionError } from '../protocol/options.js';
import type { JsonObject, JsonValue } from '../protocol/jsonrpc.js';

/** What a slot's values must pass: zod schemas fit, as does anything with this method. */
export interface SlotSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false };
}

export class StateSlot<T> {
  readonly key: string;
  readonly #schema: SlotSchema<T>;

  constructor(key: string, schema: SlotSchema<T>) {
    if (key === '') throw new OptionError('key', 'sessiongate: a state slot needs a non-empty key');
    this.key = key;
    this.#schema = schema;
  }

  /** The slot's value in a record's state; undefined when absent or when it fails the schema. */
  read(state: JsonObject): T | undefined {
    const stored = state[this.key];
    if (stored === undefined) return undefined;
    const parsed = this.#schema.safeParse(stored);
    return parsed.success ? parsed.data : undefined;
  }

  /**
   * The same slot kept apart for one `scope` (`key@scope`): a federated server's state beside
   * the others' in one record (docs/FEDERATION.md, "Sessions").
   */
  within(scope: string): StateSlot<T> {
    return new StateSlot(`${this.key}@${scope}`, this.#schema);
  }

  /**
   * The value as stored: plain JSON, a copy (so a later change to the caller's object is not a
   * silent change to a record a memory store holds). Undefined removes the key.
   */
  encode(value: T | undefined): JsonValue | undefined {
    return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as JsonValue);
  }
}

/** A typed part of a session's state under `key`, validated by `schema` on every read. */
export function stateSlot<T>(key: string, schema: SlotSchema<T>): StateSlot<T> {
  return new StateSlot(key, schema);
}

/** A schema from a type guard (the protocol's own checks, for instance). */
export function guarded<T>(isValid: (value: unknown) => value is T): SlotSchema<T> {
  return { safeParse: (value) => (isValid(value) ? { success: true, data: value } : { success: false }) };
}

const ANY_JSON: SlotSchema<JsonValue> = { safeParse: (value) => ({ success: true, data: value as JsonValue }) };

/** A slot for any JSON under `key` (a store holds JSON only: what it gives back is JSON). */
export function jsonSlot(key: string): StateSlot<JsonValue> {
  return new StateSlot(key, ANY_JSON);
}
