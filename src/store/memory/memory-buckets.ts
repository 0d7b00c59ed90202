/**
 * @module store/memory/memory-buckets
 * Rate-limit buckets in this process (store/bucket-store.ts), the least recently used
 * forgotten first past a bound (a full bucket and none are the same).
 */
import type { BucketStore } from '../bucket-store.js';
import { type Bucket, takeFrom } from '../token-bucket.js';

/** Rate-limit buckets kept at most. */
const MAX_BUCKETS = 100_000;

export class MemoryBuckets implements BucketStore {
  readonly #buckets = new Map<string, Bucket>();

  async take(key: string, capacity: number, refillPerMs: number, now: number): Promise<number> {
    const { bucket, waitMs } = takeFrom(this.#buckets.get(key), capacity, refillPerMs, now);
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    // Bounded: the least recently used bucket goes first (a full bucket and none are the same).
    if (this.#buckets.size > MAX_BUCKETS) this.#buckets.delete(this.#buckets.keys().next().value!);
    return waitMs;
  }
}
