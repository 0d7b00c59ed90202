/**
 * @module store/memory/record-table
 * The memory store's records, kept as columns: one slot per session in a few arrays (the four
 * times as raw doubles in one typed array), rather than one object per record with its times
 * boxed. An idle session then costs its id, its slot and its map entry (bench/RESULTS.md,
 * memory per idle session). `get` hands out a fresh record object, which the request that
 * asked for it holds while it runs; nothing hands out a view of a slot, so a freed slot taken
 * by another session can never show through an old record.
 */
import type { JsonObject } from '../../protocol/jsonrpc.js';
import type { SessionRecord } from '../record.js';

const TIMES = 4;
const CREATED = 0;
const LAST_SEEN = 1;
const IDLE_EXPIRES = 2;
const ABSOLUTE_EXPIRES = 3;

export class RecordTable {
  readonly #slots = new Map<string, number>();
  readonly #ids: (string | undefined)[] = [];
  readonly #principals: (string | null)[] = [];
  readonly #versions: string[] = [];
  readonly #initialize: (JsonObject | undefined)[] = [];
  readonly #clientSessionIds: (string | null)[] = [];
  readonly #states: (JsonObject | undefined)[] = [];
  #times = new Float64Array(TIMES * 16);
  /** Slots freed by removed records, taken again first. */
  readonly #free: number[] = [];

  get size(): number {
    return this.#slots.size;
  }

  has(id: string): boolean {
    return this.#slots.has(id);
  }

  ids(): IterableIterator<string> {
    return this.#slots.keys();
  }

  add(record: SessionRecord): void {
    const slot = this.#free.pop() ?? this.#ids.length;
    if (TIMES * (slot + 1) > this.#times.length) {
      const grown = new Float64Array(this.#times.length * 2);
      grown.set(this.#times);
      this.#times = grown;
    }
    this.#slots.set(record.id, slot);
    this.#ids[slot] = record.id;
    this.#principals[slot] = record.principal;
    this.#versions[slot] = record.protocolVersion;
    this.#initialize[slot] = record.initialize;
    this.#clientSessionIds[slot] = record.clientSessionId;
    this.#states[slot] = record.state;
    this.#setTimes(slot, record.createdAt, record.lastSeenAt, record.idleExpiresAt, record.absoluteExpiresAt);
  }

  /** A fresh record object, or undefined for an unknown id. */
  get(id: string): SessionRecord | undefined {
    const slot = this.#slots.get(id);
    return slot === undefined ? undefined : this.#recordAt(slot);
  }

  /** `get`, unless the record has expired at `now` (one look-up: the hot path of every request). */
  getLive(id: string, now: number): SessionRecord | undefined {
    const slot = this.#slots.get(id);
    return slot !== undefined && this.#expiresAtSlot(slot) > now ? this.#recordAt(slot) : undefined;
  }

  /** When the record stops being valid (`expiresAt` of record.ts), without building it. */
  expiresAt(id: string): number | undefined {
    const slot = this.#slots.get(id);
    return slot === undefined ? undefined : this.#expiresAtSlot(slot);
  }

  /** Slides the idle deadline; returns when the record now expires, undefined for an unknown id. */
  touch(id: string, lastSeenAt: number, idleExpiresAt: number): number | undefined {
    const slot = this.#slots.get(id);
    if (slot === undefined) return undefined;
    this.#times[TIMES * slot + LAST_SEEN] = lastSeenAt;
    this.#times[TIMES * slot + IDLE_EXPIRES] = idleExpiresAt;
    return this.#expiresAtSlot(slot);
  }

  /** The state of a record in the table (expired or not), or undefined when there is none. */
  state(id: string): JsonObject | undefined {
    const slot = this.#slots.get(id);
    return slot === undefined ? undefined : this.#states[slot];
  }

  setState(id: string, state: JsonObject): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    this.#states[slot] = state;
    return true;
  }

  setProtocolVersion(id: string, protocolVersion: string): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    this.#versions[slot] = protocolVersion;
    return true;
  }

  /** Removes the record; returns it as it was. */
  remove(id: string): SessionRecord | undefined {
    const slot = this.#slots.get(id);
    if (slot === undefined) return undefined;
    const record = this.#recordAt(slot);
    this.#slots.delete(id);
    // Let go of what the slot referenced; the slot is taken again by the next record.
    this.#ids[slot] = undefined;
    this.#principals[slot] = null;
    this.#initialize[slot] = undefined;
    this.#clientSessionIds[slot] = null;
    this.#states[slot] = undefined;
    this.#free.push(slot);
    return record;
  }

  /** `expiresAt` of record.ts, read from the columns. */
  #expiresAtSlot(slot: number): number {
    const base = TIMES * slot;
    return Math.min(this.#times[base + IDLE_EXPIRES]!, this.#times[base + ABSOLUTE_EXPIRES]!);
  }

  #setTimes(slot: number, createdAt: number, lastSeenAt: number, idleExpiresAt: number, absoluteExpiresAt: number): void {
    const base = TIMES * slot;
    this.#times[base + CREATED] = createdAt;
    this.#times[base + LAST_SEEN] = lastSeenAt;
    this.#times[base + IDLE_EXPIRES] = idleExpiresAt;
    this.#times[base + ABSOLUTE_EXPIRES] = absoluteExpiresAt;
  }

  #recordAt(slot: number): SessionRecord {
    const base = TIMES * slot;
    const times = this.#times;
    return {
      id: this.#ids[slot]!,
      principal: this.#principals[slot]!,
      protocolVersion: this.#versions[slot]!,
      initialize: this.#initialize[slot]!,
      clientSessionId: this.#clientSessionIds[slot]!,
      createdAt: times[base + CREATED]!,
      lastSeenAt: times[base + LAST_SEEN]!,
      idleExpiresAt: times[base + IDLE_EXPIRES]!,
      absoluteExpiresAt: times[base + ABSOLUTE_EXPIRES]!,
      state: this.#states[slot]!,
    };
  }
}
