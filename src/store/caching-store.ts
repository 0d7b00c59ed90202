/**
 * @module store/caching-store
 * A replica's cache of a shared store's records (docs/ARCHITECTURE.md, "The record and the cache": the record is the truth, a replica keeps
 * only a cache). A request for a session this replica served recently costs no store round trip;
 * a miss costs one. Correctness rests on the bus:
 * - a session ended, moved or changed anywhere is dropped here as the message arrives (pub/sub,
 *   about a millisecond on one network);
 * - while the bus connection is down, or right after it came back (messages may be lost), the
 *   cache is bypassed and emptied;
 * - a cached record that looks expired is read again before anybody is told so: another replica
 *   may have slid its idle deadline;
 * - an entry is trusted for `ttlMs` at most, bounding any message that was lost anyway.
 */
import { OptionError } from '../protocol/options.js';
import type { JsonValue } from '../protocol/jsonrpc.js';
import type { ApprovalStore } from './approval-record.js';
import type { BucketStore } from './bucket-store.js';
import type { GrantStore } from './grant-store.js';
import type { SecretStore } from './secret-store.js';
import type { StreamLog } from './stream-log.js';
import type { SessionBus } from './bus.js';
import { isLive, type SessionRecord } from './record.js';
import type { CreateLimits, CreateOutcome, SessionTable, VictimScope } from './session-table.js';
import type { SessionStore } from './store.js';

export interface CachingStoreOptions {
  /** How long an entry is trusted without news. Default 30 s. */
  ttlMs?: number;
  /** Entries kept at most (least recently read forgotten first). Default 100,000. */
  maxEntries?: number;
}

interface Entry {
  record: SessionRecord;
  /** When it was read from the store (the caller's clock). */
  readAt: number;
}

/**
 * A shared backend with its session records cached in this replica. Its other capabilities are
 * the backend's own: secrets, buckets, approvals and grants are never cached (any replica may change
 * one, and its caller waits for that), nor are stream events (a resuming replica reads what
 * the writer wrote).
 */
export class CachingStore implements SessionStore {
  readonly #store: SessionStore;
  readonly #sessions: CachingSessions;
  readonly bus: SessionBus;

  constructor(store: SessionStore & { readonly bus: SessionBus }, options: CachingStoreOptions = {}) {
    // Types say so; a JavaScript caller may still pass a store of one process (nothing to cache for).
    if ((store.bus as SessionBus | undefined) === undefined)
      throw new OptionError('store', 'sessiongate: CachingStore fronts a store shared by replicas (one with a bus, such as RedisStore)');
    this.#store = store;
    this.bus = store.bus;
    this.#sessions = new CachingSessions(store.sessions, store.bus, options);
  }

  get sessions(): SessionTable {
    return this.#sessions;
  }
  get secrets(): SecretStore {
    return this.#store.secrets;
  }
  get buckets(): BucketStore {
    return this.#store.buckets;
  }
  get approvals(): ApprovalStore {
    return this.#store.approvals;
  }
  get grants(): GrantStore | undefined {
    return this.#store.grants;
  }
  get streamLog(): StreamLog | undefined {
    return this.#store.streamLog;
  }

  async close(): Promise<void> {
    this.#sessions.close();
    await this.#store.close();
  }
}

/** The session table with a cache of the records read in this replica, kept true by the bus. */
class CachingSessions implements SessionTable {
  readonly #store: SessionTable;
  readonly #bus: SessionBus;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  readonly #unsubscribe: () => void;

  constructor(store: SessionTable, bus: SessionBus, options: CachingStoreOptions) {
    this.#store = store;
    this.#bus = bus;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#maxEntries = options.maxEntries ?? 100_000;
    this.#unsubscribe = bus.subscribe({
      message: (message) => void this.#entries.delete(message.id),
      reset: () => this.#entries.clear(),
    });
  }

  async get(id: string, now: number): Promise<SessionRecord | undefined> {
    const entry = this.#entries.get(id);
    if (entry && this.#bus.connected && now - entry.readAt < this.#ttlMs && isLive(entry.record, now)) {
      // Most recently read last, so the oldest is the first to go when the cache is full.
      this.#entries.delete(id);
      this.#entries.set(id, entry);
      return entry.record;
    }
    const record = await this.#store.get(id, now);
    if (!record) this.#entries.delete(id);
    else if (this.#bus.connected) this.#remember(record, now);
    return record;
  }

  async touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean> {
    const touched = await this.#store.touch(id, lastSeenAt, idleExpiresAt);
    const entry = this.#entries.get(id);
    if (!touched) this.#entries.delete(id);
    else if (entry) entry.record = { ...entry.record, lastSeenAt, idleExpiresAt };
    return touched;
  }

  async writeState(id: string, key: string, value: JsonValue | undefined): Promise<boolean> {
    this.#entries.delete(id);
    const written = await this.#store.writeState(id, key, value);
    // A read that started before the write may have cached the old state meanwhile.
    this.#entries.delete(id);
    return written;
  }

  async setProtocolVersion(id: string, protocolVersion: string): Promise<boolean> {
    this.#entries.delete(id);
    // Set while initialize is answered: no other replica knows the id yet, nobody to tell.
    const written = await this.#store.setProtocolVersion(id, protocolVersion);
    this.#entries.delete(id);
    return written;
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    this.#entries.delete(id);
    return this.#store.delete(id);
  }

  create(record: SessionRecord, limits: CreateLimits, now: number): Promise<CreateOutcome> {
    return this.#store.create(record, limits, now);
  }

  async sweepExpired(now: number, limit: number): Promise<SessionRecord[]> {
    const swept = await this.#store.sweepExpired(now, limit);
    for (const record of swept) this.#entries.delete(record.id);
    return swept;
  }

  soonestToExpire(scope: VictimScope, now: number): Promise<string | undefined> {
    return this.#store.soonestToExpire(scope, now);
  }

  list(cursor: string | undefined, limit: number, now: number): Promise<{ records: SessionRecord[]; next: string | undefined }> {
    return this.#store.list(cursor, limit, now);
  }

  count(): Promise<number> {
    return this.#store.count();
  }

  close(): void {
    this.#unsubscribe();
    this.#entries.clear();
  }

  #remember(record: SessionRecord, now: number): void {
    this.#entries.delete(record.id);
    this.#entries.set(record.id, { record, readAt: now });
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
