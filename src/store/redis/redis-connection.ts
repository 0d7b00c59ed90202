/**
 * @module store/redis/redis-connection
 * The one Redis connection every capability of the Redis backend (redis-store.ts) shares: the
 * client with the store's Lua scripts defined, the key prefix, and `call`, which waits
 * (bounded) for a connection and turns any failure into a 503 (SG_STORE_UNAVAILABLE).
 */
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { SessiongateError } from '../../protocol/failures.js';
import { checkOptions, option, OptionError } from '../../protocol/options.js';
import type { CreateOutcome } from '../session-table.js';
import { ioredis } from './ioredis.js';
import {
  ADD_GRANT,
  CLAIM,
  CREATE,
  DELETE,
  DELETE_FIELD,
  MOVE_APPROVAL,
  OPEN_APPROVAL,
  SET_FIELD,
  SWAP_GRANT,
  SWEEP,
  TAKE_TOKEN,
  TOUCH,
} from './scripts.js';
import { parseRedisTarget, type RedisTarget } from './target.js';

export interface RedisStoreOptions {
  /**
   * `redis://[user:pass@]host:port[/db]` (`rediss://` for TLS), `redis-cluster://host:port,...`
   * or `redis-sentinel://host:port,.../master-name` (store/redis/target.ts). Ignored when
   * `client` is given. Default redis://127.0.0.1:6379.
   */
  url?: string;
  /** An ioredis client (or Cluster) you own, set up your way; not closed by `close()`. */
  client?: Redis | Cluster;
  /**
   * Key and channel prefix. Default "sg:", or "{sg}:" on a cluster: the scripts touch several
   * keys at once, which a cluster allows only within one slot, so there the prefix must carry
   * a hash tag (`{...}`).
   */
  prefix?: string;
  /** How long an expired record lingers for the sweeper, in ms. Default 60000. */
  expiryGraceMs?: number;
  /** Per-command timeout: past it the store answers 503 instead of hanging. Default 1000. */
  commandTimeoutMs?: number;
}

export interface Scripted {
  sgCreate(...args: (string | number)[]): Promise<CreateOutcome>;
  sgTouch(...args: (string | number)[]): Promise<number>;
  sgSetField(...args: (string | number)[]): Promise<number>;
  sgDeleteField(...args: (string | number)[]): Promise<number>;
  sgDelete(...args: (string | number)[]): Promise<string[] | null>;
  sgSweep(...args: (string | number)[]): Promise<(string | string[])[]>;
  sgClaim(key: string): Promise<number>;
  sgTakeToken(...args: (string | number)[]): Promise<number>;
  sgOpenApproval(...args: (string | number)[]): Promise<string>;
  sgMoveApproval(...args: (string | number)[]): Promise<number>;
  sgAddGrant(...args: (string | number)[]): Promise<number>;
  sgSwapGrant(...args: (string | number)[]): Promise<number>;
}

export class RedisConnection {
  readonly redis: (Redis | Cluster) & Scripted;
  readonly #owned: boolean;
  /** Every key and channel starts with it. */
  readonly prefix: string;
  /** How long an expired record lingers for the sweeper, ms. */
  readonly grace: number;
  readonly timeout: number;
  /** Settles on the first successful connection; until then commands wait (bounded) for it. */
  #firstConnection: Promise<void> | undefined;

  constructor(options: RedisStoreOptions = {}) {
    const target = options.client ? undefined : parseRedisTarget(options.url ?? 'redis://127.0.0.1:6379');
    const clustered = options.client instanceof ioredis().Cluster || target?.kind === 'cluster';
    this.prefix = options.prefix ?? (clustered ? '{sg}:' : 'sg:');
    if (clustered && !/\{[^}]+\}/.test(this.prefix))
      throw new OptionError('prefix', `sessiongate: on a Redis Cluster the prefix needs a hash tag such as "{sg}:", got "${this.prefix}"`);
    checkOptions({ expiryGraceMs: option.nonNegativeInteger }, options);
    this.grace = options.expiryGraceMs ?? 60_000;
    const timeout = options.commandTimeoutMs ?? 1000;
    this.timeout = timeout;
    const redisOptions: RedisOptions = {
      commandTimeout: timeout,
      maxRetriesPerRequest: 1,
      // Reconnect forever in the background, but fail commands fast while down (503, not a hang).
      enableOfflineQueue: false,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      lazyConnect: false,
    };
    this.#owned = options.client === undefined;
    const client = options.client ?? connectRedis(target!, redisOptions);
    // Connection errors surface as failed commands (503); the event must not crash the process.
    if (this.#owned) client.on('error', () => {});
    client.defineCommand('sgCreate', { numberOfKeys: 4, lua: CREATE });
    client.defineCommand('sgTouch', { numberOfKeys: 2, lua: TOUCH });
    client.defineCommand('sgSetField', { numberOfKeys: 1, lua: SET_FIELD });
    client.defineCommand('sgDeleteField', { numberOfKeys: 1, lua: DELETE_FIELD });
    client.defineCommand('sgDelete', { numberOfKeys: 3, lua: DELETE });
    client.defineCommand('sgSweep', { numberOfKeys: 2, lua: SWEEP });
    client.defineCommand('sgClaim', { numberOfKeys: 1, lua: CLAIM });
    client.defineCommand('sgTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
    client.defineCommand('sgOpenApproval', { numberOfKeys: 2, lua: OPEN_APPROVAL });
    client.defineCommand('sgMoveApproval', { numberOfKeys: 2, lua: MOVE_APPROVAL });
    client.defineCommand('sgAddGrant', { numberOfKeys: 1, lua: ADD_GRANT });
    client.defineCommand('sgSwapGrant', { numberOfKeys: 1, lua: SWAP_GRANT });
    this.redis = client as (Redis | Cluster) & Scripted;
  }

  /** Waits (at most one command timeout) for a connection, so a request never hangs on a down Redis. */
  #connected(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    this.#firstConnection ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        this.#firstConnection = undefined;
        reject(new Error('Redis connection timed out'));
      }, this.timeout);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once('ready', onReady);
    });
    return this.#firstConnection;
  }

  /** Any Redis failure is a 503 for the request, with the cause kept for logs. */
  async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      await this.#connected();
      return await command();
    } catch (cause) {
      throw new SessiongateError('SG_STORE_UNAVAILABLE', undefined, { cause });
    }
  }

  /** Closes the connection; never hangs on a Redis that is down (shutdown must finish). */
  async close(): Promise<void> {
    if (!this.#owned) return;
    const redis = this.redis;
    if (redis.status !== 'ready') {
      redis.disconnect();
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        redis.quit(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('quit timed out')), this.timeout))),
      ]);
    } catch {
      redis.disconnect();
    } finally {
      clearTimeout(timer);
    }
  }
}

/** An ioredis client for the target; `options` apply to every connection it makes. */
function connectRedis(target: RedisTarget, options: RedisOptions): Redis | Cluster {
  switch (target.kind) {
    case 'server':
      return new (ioredis().Redis)(target.url, options);
    case 'sentinel':
      return new (ioredis().Redis)({
        ...options,
        sentinels: target.sentinels,
        name: target.name,
        username: target.username,
        password: target.password,
      });
    case 'cluster': {
      const { enableOfflineQueue, ...perNode } = options;
      return new (ioredis().Cluster)(target.nodes, {
        ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
        clusterRetryStrategy: options.retryStrategy ?? null,
        redisOptions: { ...perNode, username: target.username, password: target.password },
      });
    }
  }
}
