/**
 * @module store/memory/memory-grants
 * The authorization server's records in this process (store/grant-store.ts): gone with it.
 */
import type { GrantStore } from '../grant-store.js';

/** Expired entries looked at and dropped per add, oldest added first, so what is kept stays bounded by what is live. */
const SWEEP_PER_ADD = 2;

export class MemoryGrants implements GrantStore {
  readonly #kept = new Map<string, { value: string; expiresAt: number }>();

  async add(key: string, value: string, expiresAt: number, now: number): Promise<boolean> {
    this.#sweep(now);
    if (this.#live(key, now) !== undefined) return false;
    this.#kept.set(key, { value, expiresAt });
    return true;
  }

  async get(key: string, now: number): Promise<string | undefined> {
    return this.#live(key, now);
  }

  async swap(key: string, expected: string, next: string | undefined, expiresAt: number, now: number): Promise<boolean> {
    if (this.#live(key, now) !== expected) return false;
    if (next === undefined) this.#kept.delete(key);
    else this.#kept.set(key, { value: next, expiresAt });
    return true;
  }

  #live(key: string, now: number): string | undefined {
    const entry = this.#kept.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry.value;
    this.#kept.delete(key);
    return undefined;
  }

  #sweep(now: number): void {
    let looked = 0;
    for (const [key, entry] of this.#kept) {
      if (looked++ === SWEEP_PER_ADD) break;
      if (entry.expiresAt <= now) this.#kept.delete(key);
    }
  }
}
