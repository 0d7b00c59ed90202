/**
 * @module store/memory/memory-sessions
 * The in-process session table (store/session-table.ts): the library default and the
 * reference the contract suite was written against. Expiry is a min-heap of deadlines with lazy deletion, so a sweep pops only what is
 * due (cost grows with what expires, not with what lives).
 *
 * Idle sessions are what a server holds most of, so a record here is kept small: columns
 * rather than objects (record-table.ts), the same `initialize` params and principal kept once
 * for every session that has them, an empty state as one shared object, a deadline as two
 * array slots.
 */
import type { JsonObject, JsonValue } from '../../protocol/jsonrpc.js';
import { expiresAt, type SessionRecord } from '../record.js';
import { type CreateLimits, type CreateOutcome, principalLimit, type SessionTable, type VictimScope } from '../session-table.js';
import { DeadlineHeap } from './deadline-heap.js';
import { RecordTable } from './record-table.js';
import { SharedValues } from './shared-values.js';

/** The state of every record that has none yet: one object, never changed (records are readonly). */
const NO_STATE: JsonObject = Object.freeze({});

function compactState(state: JsonObject): JsonObject {
  for (const _key in state) return state;
  return NO_STATE;
}

/** A principal's sessions (or the anonymous ones): counted for the cap, scanned for its eviction victim. */
interface PrincipalSessions {
  /** The principal as every record of it keeps it (one string, not one per record). */
  readonly principal: string | null;
  readonly ids: Set<string>;
}

/** The bucket key of anonymous sessions: principal hashes are never empty. */
const ANONYMOUS = '';
const NONE: ReadonlySet<string> = new Set();

export class MemorySessions implements SessionTable {
  readonly #records = new RecordTable();
  readonly #perPrincipal = new Map<string, PrincipalSessions>();
  readonly #deadlines = new DeadlineHeap();
  /** Expired records a cap check dropped: the next sweep reports them, so their resources are freed. */
  #droppedExpired: SessionRecord[] = [];
  readonly #initializeParams = new SharedValues();

  async create(record: SessionRecord, limits: CreateLimits, now: number): Promise<CreateOutcome> {
    if (this.#records.has(record.id)) return 'duplicate';
    const ownLimit = principalLimit(limits, record.principal);
    if (this.#records.size >= limits.maxSessions || this.#sessionsOf(record.principal).size >= ownLimit) {
      // Expired sessions do not count: drop what is due (the next sweep reports it), then decide.
      this.#droppedExpired.push(...this.#sweep(now, Infinity));
      if (this.#records.size >= limits.maxSessions) return 'cap-global';
      if (this.#sessionsOf(record.principal).size >= ownLimit) return 'cap-principal';
    }
    const key = record.principal ?? ANONYMOUS;
    let sessions = this.#perPrincipal.get(key);
    if (sessions) sessions.ids.add(record.id);
    else this.#perPrincipal.set(key, (sessions = { principal: record.principal, ids: new Set([record.id]) }));
    this.#records.add({
      ...record,
      principal: sessions.principal,
      initialize: this.#initializeParams.use(record.initialize),
      state: compactState(record.state),
    });
    this.#deadlines.push(expiresAt(record), record.id);
    return 'created';
  }

  async get(id: string, now: number): Promise<SessionRecord | undefined> {
    return this.#records.getLive(id, now);
  }

  async touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean> {
    const due = this.#records.touch(id, lastSeenAt, idleExpiresAt);
    if (due === undefined) return false;
    // The old heap entry goes stale; it is skipped when popped. Rebuild when stale entries
    // outnumber live ones, so a long busy session cannot grow the heap without bound.
    this.#deadlines.push(due, id);
    if (this.#deadlines.size > 2 * this.#records.size + 1024) {
      this.#deadlines.rebuild([...this.#records.ids()].map((live) => ({ at: this.#records.expiresAt(live)!, id: live })));
    }
    return true;
  }

  async writeState(id: string, key: string, value: JsonValue | undefined): Promise<boolean> {
    const state = this.#records.state(id);
    if (state === undefined) return false;
    const { [key]: _replaced, ...others } = state;
    return this.#records.setState(id, compactState(value === undefined ? others : { ...others, [key]: value }));
  }

  async setProtocolVersion(id: string, protocolVersion: string): Promise<boolean> {
    return this.#records.setProtocolVersion(id, protocolVersion);
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    return this.#remove(id);
  }

  async sweepExpired(now: number, limit: number): Promise<SessionRecord[]> {
    const dropped = this.#droppedExpired.splice(0, limit);
    return dropped.concat(this.#sweep(now, limit - dropped.length));
  }

  async soonestToExpire(scope: VictimScope, now: number): Promise<string | undefined> {
    if (scope !== 'anyone') {
      // Bounded by the principal's cap, which is what makes this the victim search (the
      // anonymous bucket may be large when its cap is: a scan, as rare as an eviction).
      let soonest: string | undefined;
      let soonestAt = Infinity;
      for (const id of this.#sessionsOf(scope.principal)) {
        const at = this.#records.expiresAt(id)!;
        if (at > now && (soonest === undefined || at < soonestAt)) [soonest, soonestAt] = [id, at];
      }
      return soonest;
    }
    // The heap's top, once what is due is dropped (the next sweep reports it) and stale entries
    // (of touched or removed sessions) are skipped.
    this.#droppedExpired.push(...this.#sweep(now, Infinity));
    for (let top = this.#deadlines.peek(); top !== undefined; top = this.#deadlines.peek()) {
      if (this.#records.expiresAt(top.id) === top.at) return top.id;
      this.#deadlines.popDue(Infinity);
    }
    return undefined;
  }

  async list(cursor: string | undefined, limit: number, now: number): Promise<{ records: SessionRecord[]; next: string | undefined }> {
    // Admin paging: sorted ids, resumed after the cursor (an id). Not a hot path.
    const ids = [...this.#records.ids()].filter((id) => cursor === undefined || id > cursor).sort();
    const page = ids.slice(0, limit);
    const records = page.filter((id) => this.#records.expiresAt(id)! > now).map((id) => this.#records.get(id)!);
    return { records, next: ids.length > limit ? page.at(-1) : undefined };
  }

  async count(): Promise<number> {
    return this.#records.size;
  }

  #sweep(now: number, limit: number): SessionRecord[] {
    const expired: SessionRecord[] = [];
    while (expired.length < limit) {
      const due = this.#deadlines.popDue(now);
      if (due === undefined) break;
      // Stale entry: the session was touched (new deadline) or is already gone.
      if (this.#records.expiresAt(due.id) !== due.at) continue;
      expired.push(this.#remove(due.id)!);
    }
    return expired;
  }

  #sessionsOf(principal: string | null): ReadonlySet<string> {
    return this.#perPrincipal.get(principal ?? ANONYMOUS)?.ids ?? NONE;
  }

  #remove(id: string): SessionRecord | undefined {
    const record = this.#records.remove(id);
    if (!record) return undefined;
    this.#initializeParams.release(record.initialize);
    const key = record.principal ?? ANONYMOUS;
    const sessions = this.#perPrincipal.get(key)!;
    sessions.ids.delete(id);
    if (sessions.ids.size === 0) this.#perPrincipal.delete(key);
    return record;
  }
}
