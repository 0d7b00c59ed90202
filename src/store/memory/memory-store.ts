/**
 * @module store/memory
 * The in-process store: the library default and the reference the contract suite was written
 * against. Expiry is a min-heap of deadlines with lazy deletion, so a sweep pops only what is
 * due (cost grows with what expires, not with what lives).
 */
import type { JsonObject } from '../../protocol/jsonrpc.js';
import { expiresAt, type SessionRecord } from '../record.js';
import type { CreateLimits, CreateOutcome, SessionStore } from '../store.js';
import { DeadlineHeap } from './deadline-heap.js';

export class MemoryStore implements SessionStore {
  readonly #records = new Map<string, SessionRecord>();
  readonly #perPrincipal = new Map<string, number>();
  readonly #deadlines = new DeadlineHeap();
  readonly #secrets = new Map<string, string>();

  async create(record: SessionRecord, limits: CreateLimits, now: number): Promise<CreateOutcome> {
    if (this.#records.has(record.id)) return 'duplicate';
    if (this.#records.size >= limits.maxSessions || this.#principalCount(record) >= limits.maxSessionsPerPrincipal) {
      // Expired sessions do not count: drop what is due, then decide.
      this.#sweep(now, Infinity);
      if (this.#records.size >= limits.maxSessions) return 'cap-global';
      if (this.#principalCount(record) >= limits.maxSessionsPerPrincipal) return 'cap-principal';
    }
    this.#records.set(record.id, record);
    if (record.principal !== null) this.#perPrincipal.set(record.principal, this.#principalCount(record) + 1);
    this.#deadlines.push(expiresAt(record), record.id);
    return 'created';
  }

  async get(id: string, now: number): Promise<SessionRecord | undefined> {
    const record = this.#records.get(id);
    return record && expiresAt(record) > now ? record : undefined;
  }

  async touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean> {
    const record = this.#records.get(id);
    if (!record) return false;
    const next = { ...record, lastSeenAt, idleExpiresAt };
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
    return this.#replace(id, (record) => ({ ...record, state }));
  }

  async setProtocolVersion(id: string, protocolVersion: string): Promise<boolean> {
    return this.#replace(id, (record) => ({ ...record, protocolVersion }));
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    return this.#remove(id);
  }

  async sweepExpired(now: number, limit: number): Promise<SessionRecord[]> {
    return this.#sweep(now, limit);
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
    return record.principal === null ? 0 : (this.#perPrincipal.get(record.principal) ?? 0);
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
    if (record.principal !== null) {
      const left = this.#principalCount(record) - 1;
      if (left > 0) this.#perPrincipal.set(record.principal, left);
      else this.#perPrincipal.delete(record.principal);
    }
    return record;
  }
}
