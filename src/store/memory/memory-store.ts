/**
 * @module store/memory
 * The in-process store: the library default and the reference the contract suite was written
 * against. Expiry is a min-heap of deadlines with lazy deletion, so a sweep pops only what is
 * due (cost grows with what expires, not with what lives).
 *
 * Idle sessions are what a server holds most of, so a record here is kept small: the same
 * `initialize` params are kept once for every session that sent them, an empty state is one
 * shared object, and a deadline is two array slots.
 */
import type { JsonObject } from '../../protocol/jsonrpc.js';
import { expiresAt, type SessionRecord } from '../record.js';
import type { CreateLimits, CreateOutcome, SessionStore } from '../store.js';
import { DeadlineHeap } from './deadline-heap.js';
import { SharedValues } from './shared-values.js';

/** The state of every record that has none yet: one object, never changed (records are readonly). */
const NO_STATE: JsonObject = Object.freeze({}) as JsonObject;

function compactState(state: JsonObject): JsonObject {
  for (const _key in state) return state;
  return NO_STATE;
}

/** A record as kept here: a class, so every record has one small fixed shape. */
class KeptRecord implements SessionRecord {
  constructor(
    readonly id: string,
    readonly principal: string | null,
    readonly protocolVersion: string,
    readonly initialize: JsonObject,
    readonly clientSessionId: string | null,
    readonly createdAt: number,
    readonly lastSeenAt: number,
    readonly idleExpiresAt: number,
    readonly absoluteExpiresAt: number,
    readonly state: JsonObject,
  ) {}

  static of(record: SessionRecord, change: Partial<SessionRecord> = {}): KeptRecord {
    const next = { ...record, ...change };
    return new KeptRecord(
      next.id,
      next.principal,
      next.protocolVersion,
      next.initialize,
      next.clientSessionId,
      next.createdAt,
      next.lastSeenAt,
      next.idleExpiresAt,
      next.absoluteExpiresAt,
      next.state,
    );
  }
}

export class MemoryStore implements SessionStore {
  readonly #records = new Map<string, SessionRecord>();
  /** Ids per principal: counted for the cap, scanned for its eviction victim. */
  readonly #perPrincipal = new Map<string, Set<string>>();
  readonly #deadlines = new DeadlineHeap();
  /** Expired records a cap check dropped: the next sweep reports them, so their resources are freed. */
  #droppedExpired: SessionRecord[] = [];
  readonly #secrets = new Map<string, string>();
  readonly #initializeParams = new SharedValues();

  async create(record: SessionRecord, limits: CreateLimits, now: number): Promise<CreateOutcome> {
    if (this.#records.has(record.id)) return 'duplicate';
    if (this.#records.size >= limits.maxSessions || this.#principalCount(record) >= limits.maxSessionsPerPrincipal) {
      // Expired sessions do not count: drop what is due (the next sweep reports it), then decide.
      this.#droppedExpired.push(...this.#sweep(now, Infinity));
      if (this.#records.size >= limits.maxSessions) return 'cap-global';
      if (this.#principalCount(record) >= limits.maxSessionsPerPrincipal) return 'cap-principal';
    }
    const kept = KeptRecord.of(record, { initialize: this.#initializeParams.use(record.initialize), state: compactState(record.state) });
    this.#records.set(kept.id, kept);
    if (kept.principal !== null) {
      const ids = this.#perPrincipal.get(kept.principal);
      if (ids) ids.add(kept.id);
      else this.#perPrincipal.set(kept.principal, new Set([kept.id]));
    }
    this.#deadlines.push(expiresAt(kept), kept.id);
    return 'created';
  }

  async get(id: string, now: number): Promise<SessionRecord | undefined> {
    const record = this.#records.get(id);
    return record && expiresAt(record) > now ? record : undefined;
  }

  async touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean> {
    const record = this.#records.get(id);
    if (!record) return false;
    const next = KeptRecord.of(record, { lastSeenAt, idleExpiresAt });
    this.#records.set(id, next);
    // The old heap entry goes stale; it is skipped when popped. Rebuild when stale entries
    // outnumber live ones, so a long busy session cannot grow the heap without bound.
    this.#deadlines.push(expiresAt(next), id);
    if (this.#deadlines.size > 2 * this.#records.size + 1024) {
      this.#deadlines.rebuild([...this.#records.values()].map((r) => ({ at: expiresAt(r), id: r.id })));
    }
    return true;
  }

  async setState(id: string, state: JsonObject): Promise<boolean> {
    return this.#replace(id, (record) => KeptRecord.of(record, { state: compactState(state) }));
  }

  async setProtocolVersion(id: string, protocolVersion: string): Promise<boolean> {
    return this.#replace(id, (record) => KeptRecord.of(record, { protocolVersion }));
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    return this.#remove(id);
  }

  async sweepExpired(now: number, limit: number): Promise<SessionRecord[]> {
    const dropped = this.#droppedExpired.splice(0, limit);
    return dropped.concat(this.#sweep(now, limit - dropped.length));
  }

  async soonestToExpire(principal: string | undefined, now: number): Promise<string | undefined> {
    if (principal !== undefined) {
      // Bounded by the per-principal cap, which is what makes this the victim search.
      let soonest: SessionRecord | undefined;
      for (const id of this.#perPrincipal.get(principal) ?? []) {
        const record = this.#records.get(id)!;
        if (expiresAt(record) > now && (!soonest || expiresAt(record) < expiresAt(soonest))) soonest = record;
      }
      return soonest?.id;
    }
    // The heap's top, once what is due is dropped (the next sweep reports it) and stale entries
    // (of touched or removed sessions) are skipped.
    this.#droppedExpired.push(...this.#sweep(now, Infinity));
    for (let top = this.#deadlines.peek(); top !== undefined; top = this.#deadlines.peek()) {
      const record = this.#records.get(top.id);
      if (record && expiresAt(record) === top.at) return top.id;
      this.#deadlines.popDue(Infinity);
    }
    return undefined;
  }

  async list(cursor: string | undefined, limit: number, now: number): Promise<{ records: SessionRecord[]; next: string | undefined }> {
    // Admin paging: sorted ids, resumed after the cursor (an id). Not a hot path.
    const ids = [...this.#records.keys()].filter((id) => cursor === undefined || id > cursor).sort();
    const page = ids.slice(0, limit);
    const records = page.map((id) => this.#records.get(id)!).filter((record) => expiresAt(record) > now);
    return { records, next: ids.length > limit ? page.at(-1) : undefined };
  }

  async count(): Promise<number> {
    return this.#records.size;
  }

  async sharedSecret(name: string, create: () => string): Promise<string> {
    let secret = this.#secrets.get(name);
    if (secret === undefined) {
      secret = create();
      this.#secrets.set(name, secret);
    }
    return secret;
  }

  async close(): Promise<void> {}

  #sweep(now: number, limit: number): SessionRecord[] {
    const expired: SessionRecord[] = [];
    while (expired.length < limit) {
      const due = this.#deadlines.popDue(now);
      if (due === undefined) break;
      const record = this.#records.get(due.id);
      // Stale entry: the session was touched (new deadline) or is already gone.
      if (!record || expiresAt(record) !== due.at) continue;
      this.#remove(due.id);
      expired.push(record);
    }
    return expired;
  }

  #principalCount(record: SessionRecord): number {
    return record.principal === null ? 0 : (this.#perPrincipal.get(record.principal)?.size ?? 0);
  }

  #replace(id: string, change: (record: SessionRecord) => SessionRecord): boolean {
    const record = this.#records.get(id);
    if (!record) return false;
    this.#records.set(id, change(record));
    return true;
  }

  #remove(id: string): SessionRecord | undefined {
    const record = this.#records.get(id);
    if (!record) return undefined;
    this.#records.delete(id);
    this.#initializeParams.release(record.initialize);
    if (record.principal !== null) {
      const ids = this.#perPrincipal.get(record.principal)!;
      ids.delete(id);
      if (ids.size === 0) this.#perPrincipal.delete(record.principal);
    }
    return record;
  }
}
