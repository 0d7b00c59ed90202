/**
 * @module store/sqlite/sqlite-buckets
 * Rate-limit buckets in SQLite (store/bucket-store.ts): one read and one write under the write
 * lock, so processes sharing the file share the buckets. Each take also forgets two buckets
 * full again, so what is kept stays bounded by what is in use.
 */
import type Database from 'better-sqlite3';
import type { BucketStore } from '../bucket-store.js';
import { bucketLifetimeMs, takeFrom } from '../token-bucket.js';

/** Forgotten buckets dropped per take: more than one, so the table shrinks once use falls. */
const FORGET_PER_TAKE = 2;

export class SqliteBuckets implements BucketStore {
  readonly #takeTx;

  constructor(db: Database.Database) {
    const stmt = {
      getBucket: db.prepare<[string], { tokens: number; at: number }>('SELECT tokens, at FROM buckets WHERE key = ?'),
      putBucket: db.prepare('INSERT OR REPLACE INTO buckets (key, tokens, at, forget_at) VALUES (?, ?, ?, ?)'),
      forgetBuckets: db.prepare('DELETE FROM buckets WHERE key IN (SELECT key FROM buckets WHERE forget_at <= ? LIMIT ?)'),
    };
    this.#takeTx = db.transaction((key: string, capacity: number, refillPerMs: number, now: number): number => {
      stmt.forgetBuckets.run(now, FORGET_PER_TAKE); // full again: the same as no bucket
      const { bucket, waitMs } = takeFrom(stmt.getBucket.get(key), capacity, refillPerMs, now);
      stmt.putBucket.run(key, bucket.tokens, bucket.at, now + bucketLifetimeMs(capacity, refillPerMs));
      return waitMs;
    });
  }

  async take(key: string, capacity: number, refillPerMs: number, now: number): Promise<number> {
    return this.#takeTx.immediate(key, capacity, refillPerMs, now);
  }
}
