/**
 * @module store/redis/redis-buckets
 * Rate-limit buckets on Redis (store/bucket-store.ts): one script per take (scripts.ts
 * TAKE_TOKEN), so replicas on this Redis share each bucket; an untouched bucket expires once
 * full again (a native TTL).
 */
import type { BucketStore } from '../bucket-store.js';
import { bucketLifetimeMs } from '../token-bucket.js';
import type { RedisConnection } from './redis-connection.js';

export class RedisBuckets implements BucketStore {
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  /** One script: replicas on this Redis share each bucket; an untouched bucket expires once full again. */
  take(key: string, capacity: number, refillPerMs: number, now: number): Promise<number> {
    const bucket = `${this.#redis.prefix}bucket:${key}`;
    return this.#redis.call(() =>
      this.#redis.redis.sgTakeToken(bucket, capacity, refillPerMs, now, bucketLifetimeMs(capacity, refillPerMs)),
    );
  }
}
