/** @module sessiongate/store/redis — the distributed store (Node only). */
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
