/**
 * @module store/redis/redis-approvals
 * Operator approvals on Redis (store/approval-record.ts): one key per approval with a native
 * TTL, and a sorted set of pending ids, oldest first; opening and moving are Lua scripts
 * (scripts.ts), so the status check and the change are atomic across replicas.
 */
import type { ApprovalRecord, ApprovalStatus, ApprovalStore } from '../approval-record.js';
import type { RedisConnection } from './redis-connection.js';

export class RedisApprovals implements ApprovalStore {
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  async open(record: ApprovalRecord, now: number): Promise<ApprovalRecord> {
    const kept = await this.#redis.call(() =>
      this.#redis.redis.sgOpenApproval(
        ...[this.#approvalKey(record.id), this.#pendingKey(), JSON.stringify(record), record.expiresAt + this.#redis.grace],
        ...[record.id, record.createdAt, record.status, now],
      ),
    );
    return JSON.parse(kept) as ApprovalRecord;
  }

  async get(id: string, now: number): Promise<ApprovalRecord | undefined> {
    const kept = await this.#redis.call(() => this.#redis.redis.get(this.#approvalKey(id)));
    const record = kept === null ? undefined : (JSON.parse(kept) as ApprovalRecord);
    return record && record.expiresAt > now ? record : undefined;
  }

  /** Walks the pending index oldest first; ids whose approval is gone, decided or timed out are pruned from it. */
  async list(now: number, limit: number): Promise<ApprovalRecord[]> {
    const pending: ApprovalRecord[] = [];
    for (let offset = 0; pending.length < limit; offset += limit) {
      const ids = await this.#redis.call(() => this.#redis.redis.zrange(this.#pendingKey(), String(offset), String(offset + limit - 1)));
      if (ids.length === 0) break;
      const kept = await this.#redis.call(() => this.#redis.redis.mget(...ids.map((id) => this.#approvalKey(id))));
      const gone: string[] = [];
      ids.forEach((id, i) => {
        const record = kept[i] ? (JSON.parse(kept[i]) as ApprovalRecord) : undefined;
        if (!record || record.status !== 'pending' || record.expiresAt <= now) gone.push(id);
        else if (pending.length < limit) pending.push(record);
      });
      if (gone.length > 0) {
        await this.#redis.call(() => this.#redis.redis.zrem(this.#pendingKey(), ...gone));
        offset -= gone.length;
      }
    }
    return pending;
  }

  async move(id: string, from: ApprovalStatus, next: ApprovalRecord | undefined, now: number): Promise<boolean> {
    const moved = await this.#redis.call(() =>
      this.#redis.redis.sgMoveApproval(
        ...[this.#approvalKey(id), this.#pendingKey(), from, next ? JSON.stringify(next) : ''],
        ...[(next?.expiresAt ?? now) + this.#redis.grace, id, now, next?.status ?? ''],
      ),
    );
    return moved === 1;
  }

  #approvalKey(id: string): string {
    return `${this.#redis.prefix}approval:${id}`;
  }

  #pendingKey(): string {
    return `${this.#redis.prefix}approvals:pending`;
  }
}
