/**
 * @module auth/expiring-cache
 * Values remembered until a time, bounded, oldest first out: tokens already verified (a client
 * sends the same token on every request of a session, and a signature check per request would
 * cost more than the whole request path: bench/RESULTS.md, "Issue 17"), keyed by a SHA-256 of
 * the token so the cache holds no credential; and approvals a policy remembers (`remember`).
 */
import { createHash } from 'node:crypto';

export class ExpiringCache<T> {
  readonly #limit: number;
  readonly #entries = new Map<string, { value: T; until: number }>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** A key for a secret (a token): its SHA-256, so the cache holds no credential. */
  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(key: string, now: number): T | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > now) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  /** Keeps `value` until `until` (ms since the epoch). */
  set(key: string, value: T, until: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, until });
    if (this.#entries.size > this.#limit) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
