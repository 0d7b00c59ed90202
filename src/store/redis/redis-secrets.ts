/**
 * @module store/redis/redis-secrets
 * Secrets on Redis (store/secret-store.ts): SET NX, then read, so every replica ends up with the
 * first value written.
 */
import { SessiongateError } from '../../protocol/failures.js';
import type { SecretStore } from '../secret-store.js';
import type { RedisConnection } from './redis-connection.js';

export class RedisSecrets implements SecretStore {
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  async shared(name: string, create: () => string): Promise<string> {
    const key = `${this.#redis.prefix}secret:${name}`;
    await this.#redis.call(() => this.#redis.redis.set(key, create(), 'NX'));
    const value = await this.#redis.call(() => this.#redis.redis.get(key));
    if (value === null) throw new SessiongateError('SG_STORE_UNAVAILABLE', 'Service Unavailable: shared secret vanished from the store');
    return value;
  }
}
