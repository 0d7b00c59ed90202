/**
 * @module store/bucket-store
 * Rate-limit buckets every process on a backend shares (store.ts), with the formula of
 * token-bucket.ts (docs/POLICY.md, "Rate limits"). A bucket untouched until it is full again
 * is forgotten (full and none are the same), so the buckets kept stay bounded.
 */
export interface BucketStore {
  /**
   * Takes one token from the bucket `key` (up to `capacity` tokens, refilled evenly at
   * `refillPerMs`) as one atomic step, across every process on the backend: 0 when taken, else
   * the ms until one will be there.
   */
  take(key: string, capacity: number, refillPerMs: number, now: number): Promise<number>;
}
