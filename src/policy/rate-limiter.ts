/**
 * @module policy/rate-limiter
 * Token buckets for a rule's `rateLimit` (docs/POLICY.md, "Rate limits"): a bucket holds
 * `requests` tokens and refills them evenly over `per`; a call takes one or is refused with the
 * seconds until the next one. One bucket per principal and rule (or per principal, rule and
 * tool). The policy gate keeps them in the session store once the server binds it (a
 * `SessionPort`): replicas on one Redis or SQLite file share them; `RateLimiter` keeps them in
 * this process, bounded, least recently used first out, until then (or for a caller's own use).
 */
import type { BucketStore } from '../store/bucket-store.js';
import { type Bucket, takeFrom } from '../store/token-bucket.js';

export interface BucketRule {
  requests: number;
  perMs: number;
}

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

/** Where buckets are kept: this process (RateLimiter) or the session store (storeLimiter). */
export interface Limiter {
  take(key: string, rule: BucketRule): Take | Promise<Take>;
}

const DEFAULT_BUCKETS = 100_000;

/** A wait in ms as a Take. */
function taken(waitMs: number): Take {
  return waitMs === 0 ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

export class RateLimiter implements Limiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #limit: number;

  constructor(limit = DEFAULT_BUCKETS) {
    this.#limit = limit;
  }

  take(key: string, rule: BucketRule, now = Date.now()): Take {
    const { bucket, waitMs } = takeFrom(this.#buckets.get(key), rule.requests, rule.requests / rule.perMs, now);
    this.#buckets.delete(key);
    if (this.#buckets.size >= this.#limit) this.#buckets.delete(this.#buckets.keys().next().value!);
    this.#buckets.set(key, bucket);
    return taken(waitMs);
  }
}

/** Buckets in a backend (shared by the replicas using it), read at `now()`. */
export function storeLimiter(buckets: BucketStore, now: () => number = Date.now): Limiter {
  return { take: async (key, rule) => taken(await buckets.take(key, rule.requests, rule.requests / rule.perMs, now())) };
}
