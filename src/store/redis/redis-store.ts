/**
 * @module store/redis
 * The distributed store: every replica sees the same sessions. Creates, caps, touches and
 * sweeps are atomic Lua scripts. Each session hash carries a native TTL (its deadline plus a
 * grace period that lets a sweeper still read why it ended); deadlines are also checked
 * logically, so a record is never served past its deadline.
 *
 * The store's clock and Redis's must roughly agree (the native TTL uses Redis's time).
 */
import { OptionError } from '../../protocol/options.js';
import { checkOptions, option } from '../../protocol/options.js';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { ioredis } from './ioredis.js';
import { SessiongateError } from '../../protocol/failures.js';
import type { JsonObject, JsonValue } from '../../protocol/jsonrpc.js';
import { expiresAt, type SessionRecord } from '../record.js';
import { type CreateLimits, type CreateOutcome, principalLimit, type SessionStore, type VictimScope } from '../store.js';
import { parseRedisTarget, type RedisTarget } from './target.js';
import { RedisBus } from './redis-bus.js';
import { RedisStreamLog } from './redis-stream-log.js';
import { CLAIM, CREATE, DELETE, DELETE_FIELD, MOVE_APPROVAL, OPEN_APPROVAL, SET_FIELD, SWEEP, TAKE_TOKEN, TOUCH } from './scripts.js';
import type { ApprovalRecord, ApprovalStatus } from '../approval-record.js';
import { bucketLifetimeMs } from '../token-bucket.js';

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

type Fields = Record<string, string>;

interface Scripted {
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
}

export class RedisStore implements SessionStore {
  readonly #redis: (Redis | Cluster) & Scripted;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #grace: number;
  readonly #timeout: number;
  /** Settles on the first successful connection; until then commands wait (bounded) for it. */
  #firstConnection: Promise<void> | undefined;
  #bus: RedisBus | undefined;
  readonly streamLog: RedisStreamLog;

  constructor(options: RedisStoreOptions = {}) {
    const target = options.client ? undefined : parseRedisTarget(options.url ?? 'redis://127.0.0.1:6379');
    const clustered = options.client instanceof ioredis().Cluster || target?.kind === 'cluster';
    this.#prefix = options.prefix ?? (clustered ? '{sg}:' : 'sg:');
    if (clustered && !/\{[^}]+\}/.test(this.#prefix))
      throw new OptionError('prefix', `sessiongate: on a Redis Cluster the prefix needs a hash tag such as "{sg}:", got "${this.#prefix}"`);
    checkOptions({ expiryGraceMs: option.nonNegativeInteger }, options);
    this.#grace = options.expiryGraceMs ?? 60_000;
    const timeout = options.commandTimeoutMs ?? 1000;
    this.#timeout = timeout;
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
    this.#redis = client as (Redis | Cluster) & Scripted;
    this.streamLog = new RedisStreamLog(client, this.#prefix, (command) => this.#call(command));
  }

  /** Replicas on this store tell each other of ended and moved sessions here (pub/sub). */
  get bus(): RedisBus {
    this.#bus ??= new RedisBus(this.#redis, this.#prefix, (id) => this.#call(() => this.#redis.sgClaim(this.#key(id))));
    return this.#bus;
  }

  /** Resolves once connected (useful at start-up to fail fast on a wrong URL). */
  async ready(): Promise<void> {
    await this.#call(() => this.#redis.ping());
  }

  /** Waits (at most one command timeout) for a connection, so a request never hangs on a down Redis. */
  #connected(): Promise<void> {
    if (this.#redis.status === 'ready') return Promise.resolve();
    this.#firstConnection ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#redis.off('ready', onReady);
        this.#firstConnection = undefined;
        reject(new Error('Redis connection timed out'));
      }, this.#timeout);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.#redis.once('ready', onReady);
    });
    return this.#firstConnection;
  }

  create(record: SessionRecord, limits: CreateLimits, now: number): Promise<CreateOutcome> {
    const { id, principal, lastSeenAt, idleExpiresAt, absoluteExpiresAt, protocolVersion, state: _state, ...data } = record;
    const ownLimit = principalLimit(limits, principal);
    return this.#call(() =>
      this.#redis.sgCreate(
        this.#key(id),
        this.#expiryKey(),
        this.#principalKey(principal ?? ''),
        this.#idsKey(),
        id,
        now,
        Number.isFinite(limits.maxSessions) ? limits.maxSessions : -1,
        Number.isFinite(ownLimit) ? ownLimit : -1,
        principal ?? '',
        JSON.stringify(data),
        lastSeenAt,
        idleExpiresAt,
        absoluteExpiresAt,
        expiresAt(record),
        this.#grace,
        protocolVersion,
      ),
    );
  }

  async get(id: string, now: number): Promise<SessionRecord | undefined> {
    const fields = await this.#call(() => this.#redis.hgetall(this.#key(id)));
    if (fields['data'] === undefined) return undefined;
    const record = toRecord(id, fields);
    return expiresAt(record) > now ? record : undefined;
  }

  async touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean> {
    const touched = await this.#call(() =>
      this.#redis.sgTouch(this.#key(id), this.#expiryKey(), id, lastSeenAt, idleExpiresAt, this.#grace, this.#principalKey('')),
    );
    return touched === 1;
  }

  async writeState(id: string, key: string, value: JsonValue | undefined): Promise<boolean> {
    // One hash field per key: HSET and HDEL of one field never touch the others.
    const field = STATE_FIELD_PREFIX + key;
    const written = await this.#call(() =>
      value === undefined
        ? this.#redis.sgDeleteField(this.#key(id), field)
        : this.#redis.sgSetField(this.#key(id), field, JSON.stringify(value)),
    );
    return written === 1;
  }

  async setProtocolVersion(id: string, protocolVersion: string): Promise<boolean> {
    return (await this.#call(() => this.#redis.sgSetField(this.#key(id), 'protocolVersion', protocolVersion))) === 1;
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    const flat = await this.#call(() => this.#redis.sgDelete(this.#key(id), this.#expiryKey(), this.#idsKey(), id, this.#principalKey('')));
    return flat ? toRecord(id, pairs(flat)) : undefined;
  }

  async soonestToExpire(scope: VictimScope, now: number): Promise<string | undefined> {
    // Both sorted sets are scored by deadline (touch moves the principal's entry too).
    const key = scope === 'anyone' ? this.#expiryKey() : this.#principalKey(scope.principal ?? '');
    const [id] = await this.#call(() => this.#redis.zrangebyscore(key, `(${now}`, '+inf', 'LIMIT', 0, 1));
    return id;
  }

  async sweepExpired(now: number, limit: number): Promise<SessionRecord[]> {
    const out = await this.#call(() =>
      this.#redis.sgSweep(this.#expiryKey(), this.#idsKey(), now, limit, this.#key(''), this.#principalKey('')),
    );
    const records: SessionRecord[] = [];
    for (let i = 0; i < out.length; i += 2) records.push(toRecord(out[i] as string, pairs(out[i + 1] as string[])));
    return records;
  }

  /** Pages through the id index (a sorted set with equal scores, so ZRANGEBYLEX orders by id). */
  async list(cursor: string | undefined, limit: number, now: number): Promise<{ records: SessionRecord[]; next: string | undefined }> {
    const ids = await this.#call(() =>
      this.#redis.zrangebylex(this.#idsKey(), cursor === undefined ? '-' : `(${cursor}`, '+', 'LIMIT', 0, limit + 1),
    );
    const page = ids.slice(0, limit);
    const records: SessionRecord[] = [];
    for (const id of page) {
      const record = await this.get(id, now);
      if (record) records.push(record);
    }
    return { records, next: ids.length > limit ? page.at(-1) : undefined };
  }

  count(): Promise<number> {
    return this.#call(() => this.#redis.zcard(this.#expiryKey()));
  }

  /** One script: replicas on this Redis share each bucket; an untouched bucket expires once full again. */
  takeToken(key: string, capacity: number, refillPerMs: number, now: number): Promise<number> {
    const bucket = `${this.#prefix}bucket:${key}`;
    return this.#call(() => this.#redis.sgTakeToken(bucket, capacity, refillPerMs, now, bucketLifetimeMs(capacity, refillPerMs)));
  }

  async sharedSecret(name: string, create: () => string): Promise<string> {
    const key = `${this.#prefix}secret:${name}`;
    await this.#call(() => this.#redis.set(key, create(), 'NX'));
    const value = await this.#call(() => this.#redis.get(key));
    if (value === null) throw new SessiongateError('SG_STORE_UNAVAILABLE', 'Service Unavailable: shared secret vanished from the store');
    return value;
  }

  async openApproval(record: ApprovalRecord, now: number): Promise<ApprovalRecord> {
    const kept = await this.#call(() =>
      this.#redis.sgOpenApproval(
        ...[this.#approvalKey(record.id), this.#pendingKey(), JSON.stringify(record), record.expiresAt + this.#grace],
        ...[record.id, record.createdAt, record.status, now],
      ),
    );
    return JSON.parse(kept) as ApprovalRecord;
  }

  async getApproval(id: string, now: number): Promise<ApprovalRecord | undefined> {
    const kept = await this.#call(() => this.#redis.get(this.#approvalKey(id)));
    const record = kept === null ? undefined : (JSON.parse(kept) as ApprovalRecord);
    return record && record.expiresAt > now ? record : undefined;
  }

  /** Walks the pending index oldest first; ids whose approval is gone, decided or timed out are pruned from it. */
  async listApprovals(now: number, limit: number): Promise<ApprovalRecord[]> {
    const pending: ApprovalRecord[] = [];
    for (let offset = 0; pending.length < limit; offset += limit) {
      const ids = await this.#call(() => this.#redis.zrange(this.#pendingKey(), String(offset), String(offset + limit - 1)));
      if (ids.length === 0) break;
      const kept = await this.#call(() => this.#redis.mget(...ids.map((id) => this.#approvalKey(id))));
      const gone: string[] = [];
      ids.forEach((id, i) => {
        const record = kept[i] ? (JSON.parse(kept[i]) as ApprovalRecord) : undefined;
        if (!record || record.status !== 'pending' || record.expiresAt <= now) gone.push(id);
        else if (pending.length < limit) pending.push(record);
      });
      if (gone.length > 0) {
        await this.#call(() => this.#redis.zrem(this.#pendingKey(), ...gone));
        offset -= gone.length;
      }
    }
    return pending;
  }

  async moveApproval(id: string, from: ApprovalStatus, next: ApprovalRecord | undefined, now: number): Promise<boolean> {
    const moved = await this.#call(() =>
      this.#redis.sgMoveApproval(
        ...[this.#approvalKey(id), this.#pendingKey(), from, next ? JSON.stringify(next) : ''],
        ...[(next?.expiresAt ?? now) + this.#grace, id, now, next?.status ?? ''],
      ),
    );
    return moved === 1;
  }

  #approvalKey(id: string): string {
    return `${this.#prefix}approval:${id}`;
  }

  #pendingKey(): string {
    return `${this.#prefix}approvals:pending`;
  }

  /** Closes the connection; never hangs on a Redis that is down (shutdown must finish). */
  async close(): Promise<void> {
    await this.#bus?.close();
    if (!this.#owned) return;
    const redis = this.#redis;
    if (redis.status !== 'ready') {
      redis.disconnect();
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        redis.quit(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('quit timed out')), this.#timeout))),
      ]);
    } catch {
      redis.disconnect();
    } finally {
      clearTimeout(timer);
    }
  }

  #key(id: string): string {
    return `${this.#prefix}s:${id}`;
  }
  #idsKey(): string {
    return `${this.#prefix}ids`;
  }
  #expiryKey(): string {
    return `${this.#prefix}expiry`;
  }
  #principalKey(principal: string): string {
    return `${this.#prefix}p:${principal}`;
  }

  /** Any Redis failure is a 503 for the request, with the cause kept for logs. */
  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      await this.#connected();
      return await command();
    } catch (cause) {
      throw new SessiongateError('SG_STORE_UNAVAILABLE', undefined, { cause });
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

function pairs(flat: string[]): Fields {
  const fields: Fields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return fields;
}

function toRecord(id: string, fields: Fields): SessionRecord {
  const data = JSON.parse(fields['data'] ?? '{}') as Pick<SessionRecord, 'initialize' | 'clientSessionId' | 'createdAt'>;
  return {
    ...data,
    id,
    principal: fields['principal'] ? fields['principal'] : null,
    protocolVersion: fields['protocolVersion'] ?? '',
    lastSeenAt: Number(fields['lastSeenAt']),
    idleExpiresAt: Number(fields['idleExpiresAt']),
    absoluteExpiresAt: Number(fields['absoluteExpiresAt']),
    state: stateOf(fields),
  };
}

/** A state key's hash field: prefixed, so no key can collide with the record's own fields. */
const STATE_FIELD_PREFIX = 'state.';

/** The state of a record: one field per key (and, in a record an older version wrote, one `state` field holding them all). */
function stateOf(fields: Fields): JsonObject {
  const state = JSON.parse(fields['state'] ?? '{}') as JsonObject;
  for (const [field, value] of Object.entries(fields)) {
    if (field.startsWith(STATE_FIELD_PREFIX)) state[field.slice(STATE_FIELD_PREFIX.length)] = JSON.parse(value) as JsonValue;
  }
  return state;
}
