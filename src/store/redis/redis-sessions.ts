/**
 * @module store/redis/redis-sessions
 * The session table on Redis (store/session-table.ts): creates, caps, touches and sweeps are
 * atomic Lua scripts (scripts.ts). Each session hash carries a native TTL (its deadline plus a
 * grace period that lets a sweeper still read why it ended); deadlines are also checked
 * logically, so a record is never served past its deadline.
 */
import type { JsonObject, JsonValue } from '../../protocol/jsonrpc.js';
import { expiresAt, type SessionRecord } from '../record.js';
import { type CreateLimits, type CreateOutcome, principalLimit, type SessionTable, type VictimScope } from '../session-table.js';
import type { RedisConnection } from './redis-connection.js';

type Fields = Record<string, string>;

/** The hash of session `id` under `prefix` (the bus claims it too: redis-store.ts). */
export function sessionKey(prefix: string, id: string): string {
  return `${prefix}s:${id}`;
}

export class RedisSessions implements SessionTable {
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  create(record: SessionRecord, limits: CreateLimits, now: number): Promise<CreateOutcome> {
    const { id, principal, lastSeenAt, idleExpiresAt, absoluteExpiresAt, protocolVersion, state: _state, ...data } = record;
    const ownLimit = principalLimit(limits, principal);
    return this.#redis.call(() =>
      this.#redis.redis.sgCreate(
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
        this.#redis.grace,
        protocolVersion,
      ),
    );
  }

  async get(id: string, now: number): Promise<SessionRecord | undefined> {
    const fields = await this.#redis.call(() => this.#redis.redis.hgetall(this.#key(id)));
    if (fields['data'] === undefined) return undefined;
    const record = toRecord(id, fields);
    return expiresAt(record) > now ? record : undefined;
  }

  async touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean> {
    const touched = await this.#redis.call(() =>
      this.#redis.redis.sgTouch(this.#key(id), this.#expiryKey(), id, lastSeenAt, idleExpiresAt, this.#redis.grace, this.#principalKey('')),
    );
    return touched === 1;
  }

  async writeState(id: string, key: string, value: JsonValue | undefined): Promise<boolean> {
    // One hash field per key: HSET and HDEL of one field never touch the others.
    const field = STATE_FIELD_PREFIX + key;
    const written = await this.#redis.call(() =>
      value === undefined
        ? this.#redis.redis.sgDeleteField(this.#key(id), field)
        : this.#redis.redis.sgSetField(this.#key(id), field, JSON.stringify(value)),
    );
    return written === 1;
  }

  async setProtocolVersion(id: string, protocolVersion: string): Promise<boolean> {
    return (await this.#redis.call(() => this.#redis.redis.sgSetField(this.#key(id), 'protocolVersion', protocolVersion))) === 1;
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    const flat = await this.#redis.call(() =>
      this.#redis.redis.sgDelete(this.#key(id), this.#expiryKey(), this.#idsKey(), id, this.#principalKey('')),
    );
    return flat ? toRecord(id, pairs(flat)) : undefined;
  }

  async soonestToExpire(scope: VictimScope, now: number): Promise<string | undefined> {
    // Both sorted sets are scored by deadline (touch moves the principal's entry too).
    const key = scope === 'anyone' ? this.#expiryKey() : this.#principalKey(scope.principal ?? '');
    const [id] = await this.#redis.call(() => this.#redis.redis.zrangebyscore(key, `(${now}`, '+inf', 'LIMIT', 0, 1));
    return id;
  }

  async sweepExpired(now: number, limit: number): Promise<SessionRecord[]> {
    const out = await this.#redis.call(() =>
      this.#redis.redis.sgSweep(this.#expiryKey(), this.#idsKey(), now, limit, this.#key(''), this.#principalKey('')),
    );
    const records: SessionRecord[] = [];
    for (let i = 0; i < out.length; i += 2) records.push(toRecord(out[i] as string, pairs(out[i + 1] as string[])));
    return records;
  }

  /** Pages through the id index (a sorted set with equal scores, so ZRANGEBYLEX orders by id). */
  async list(cursor: string | undefined, limit: number, now: number): Promise<{ records: SessionRecord[]; next: string | undefined }> {
    const ids = await this.#redis.call(() =>
      this.#redis.redis.zrangebylex(this.#idsKey(), cursor === undefined ? '-' : `(${cursor}`, '+', 'LIMIT', 0, limit + 1),
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
    return this.#redis.call(() => this.#redis.redis.zcard(this.#expiryKey()));
  }

  #key(id: string): string {
    return sessionKey(this.#redis.prefix, id);
  }
  #idsKey(): string {
    return `${this.#redis.prefix}ids`;
  }
  #expiryKey(): string {
    return `${this.#redis.prefix}expiry`;
  }
  #principalKey(principal: string): string {
    return `${this.#redis.prefix}p:${principal}`;
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
