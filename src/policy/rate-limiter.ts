/**
 * @module policy/rate-limiter
 * Token buckets for a rule's `rateLimit` (docs/POLICY.md, "Rate limits"): a bucket holds
 * `requests` tokens and refills them evenly over `per`; a call takes one or is refused with the
 * seconds until the next one. One bucket per principal and rule (or per principal, rule and
 * tool); kept in this process, bounded, least recently used first out.
 */

export interface BucketRule {
  requests: number;
  perMs: number;
}

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

const DEFAULT_BUCKETS = 100_000;

export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #limit: number;

  constructor(limit = DEFAULT_BUCKETS) {
    this.#limit = limit;
  }

  take(key: string, rule: BucketRule, now = Date.now()): Take {
    const refillPerMs = rule.requests / rule.perMs;
    const bucket = this.#buckets.get(key);
    const tokens = bucket ? Math.min(rule.requests, bucket.tokens + (now - bucket.at) * refillPerMs) : rule.requests;
    this.#buckets.delete(key);
    if (this.#buckets.size >= this.#limit) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: now });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / refillPerMs / 1000)) };
    }
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
    return { ok: true };
  }
}
