/**
 * @module store/redis/ioredis
 * The Redis driver, loaded on first use (store/driver.ts): importing `sessiongate/store/redis`
 * costs nothing until a store is made.
 */
import type * as IoRedis from 'ioredis';
import { loadDriver } from '../driver.js';

let loaded: typeof IoRedis | undefined;

export function ioredis(): typeof IoRedis {
  loaded ??= loadDriver<typeof IoRedis>('ioredis', 'the Redis store');
  return loaded;
}
