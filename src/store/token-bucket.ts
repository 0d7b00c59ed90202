/**
 * @module store/token-bucket
 * The token bucket every store keeps for rate limits (docs/POLICY.md, "Rate limits"): up to
 * `capacity` tokens, refilled evenly at `refillPerMs`; a take removes one, or says how long
 * until one is there. One formula, so memory, SQLite and the in-process limiter agree (Redis
 * runs the same steps in Lua, scripts.ts TAKE_TOKEN).
 */

export interface Bucket {
  tokens: number;
  at: number;
}

/** The bucket after a take at `now`, and the ms to wait (0: taken). */
export function takeFrom(
  bucket: Bucket | undefined,
  capacity: number,
  refillPerMs: number,
  now: number,
): { bucket: Bucket; waitMs: number } {
  const tokens = bucket ? Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.at) * refillPerMs) : capacity;
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, waitMs: 0 };
  return { bucket: { tokens, at: now }, waitMs: Math.ceil((1 - tokens) / refillPerMs) };
}

/** How long an untouched bucket matters: once full again it is the same as no bucket. */
export function bucketLifetimeMs(capacity: number, refillPerMs: number): number {
  return Math.ceil(capacity / refillPerMs) + 1000;
}
