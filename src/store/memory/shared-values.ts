/**
 * @module store/memory/shared-values
 * Equal JSON values kept once, counted by the records that use them. Sessions opened by the same
 * client build send the same `initialize` params (client info and capabilities); an idle record
 * then costs a reference to them, not a copy (bench/RESULTS.md, memory per idle session). The
 * values are records' fields, so they are never changed in place (SessionRecord is readonly).
 */
import type { JsonObject } from '../../protocol/jsonrpc.js';

interface Shared {
  readonly value: JsonObject;
  uses: number;
}

export class SharedValues {
  readonly #byText = new Map<string, Shared>();
  /** The text each kept value was found under, so letting go needs no serializing. */
  readonly #textOf = new Map<JsonObject, string>();

  /** The kept value equal to `value` (kept now if new), counted once more. */
  use(value: JsonObject): JsonObject {
    const text = JSON.stringify(value);
    const shared = this.#byText.get(text);
    if (shared) {
      shared.uses++;
      return shared.value;
    }
    this.#byText.set(text, { value, uses: 1 });
    this.#textOf.set(value, text);
    return value;
  }

  /** One record less uses `value`; forgotten when none does. */
  release(value: JsonObject): void {
    const text = this.#textOf.get(value);
    if (text === undefined) return;
    const shared = this.#byText.get(text)!;
    if (--shared.uses === 0) {
      this.#byText.delete(text);
      this.#textOf.delete(value);
    }
  }

  get size(): number {
    return this.#byText.size;
  }
}
