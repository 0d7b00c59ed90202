/**
 * @module store/redis
 * The distributed backend: every replica sees the same sessions, secrets, buckets, approvals
 * and stream events, over one connection (redis-connection.ts), and hears of ended and moved
 * sessions on its bus (pub/sub).
 *
 * The store's clock and Redis's must roughly agree (native TTLs use Redis's time).
 */
import type { SessionStore } from '../store.js';
import { RedisApprovals } from './redis-approvals.js';
import { RedisGrants } from './redis-grants.js';
import { RedisBuckets } from './redis-buckets.js';
import { RedisBus } from './redis-bus.js';
import { RedisConnection, type RedisStoreOptions } from './redis-connection.js';
import { RedisSecrets } from './redis-secrets.js';
import { RedisSessions, sessionKey } from './redis-sessions.js';
import { RedisStreamLog } from './redis-stream-log.js';

export type { RedisStoreOptions };

export class RedisStore implements SessionStore {
  readonly #redis: RedisConnection;
  #bus: RedisBus | undefined;
  readonly sessions: RedisSessions;
  readonly secrets: RedisSecrets;
  readonly buckets: RedisBuckets;
  readonly approvals: RedisApprovals;
  readonly grants: RedisGrants;
  readonly streamLog: RedisStreamLog;

  constructor(options: RedisStoreOptions = {}) {
    const redis = new RedisConnection(options);
    this.#redis = redis;
    this.sessions = new RedisSessions(redis);
    this.secrets = new RedisSecrets(redis);
    this.buckets = new RedisBuckets(redis);
    this.approvals = new RedisApprovals(redis);
    this.grants = new RedisGrants(redis);
    this.streamLog = new RedisStreamLog(redis.redis, redis.prefix, (command) => redis.call(command));
  }

  /** Replicas on this store tell each other of ended and moved sessions here (pub/sub). */
  get bus(): RedisBus {
    const redis = this.#redis;
    this.#bus ??= new RedisBus(redis.redis, redis.prefix, (id) => redis.call(() => redis.redis.sgClaim(sessionKey(redis.prefix, id))));
    return this.#bus;
  }

  /** Resolves once connected (useful at start-up to fail fast on a wrong URL). */
  async ready(): Promise<void> {
    await this.#redis.call(() => this.#redis.redis.ping());
  }

  /** Closes the bus, then the connection; never hangs on a Redis that is down (shutdown must finish). */
  async close(): Promise<void> {
    await this.#bus?.close();
    await this.#redis.close();
  }
}
