/**
 * @module store/sqlite/sqlite-sessions
 * The session table in SQLite (store/session-table.ts): the times and keys it queries by as
 * columns, the rest of a record as JSON (sqlite-schema.ts); caps checked under the write lock,
 * so processes sharing the file share them.
 */
import type Database from 'better-sqlite3';
import type { JsonValue } from '../../protocol/jsonrpc.js';
import { expiresAt, type SessionRecord } from '../record.js';
import { type CreateLimits, type CreateOutcome, principalLimit, type SessionTable, type VictimScope } from '../session-table.js';
import type { Row } from './sqlite-schema.js';

/** The parts of a record that never change after create, plus `state`. */
type RecordData = Omit<SessionRecord, 'id' | 'principal' | 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt'>;

export class SqliteSessions implements SessionTable {
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof prepareStatements>;
  readonly #createTx;
  readonly #sweepTx;
  readonly #cache: RecordCache;

  /** On `db`, whose schema (sqlite-schema.ts) is in place. */
  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = prepareStatements(db);
    const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    this.#cache = new RecordCache(() => dataVersion.get()!);
    // IMMEDIATE: take the write lock first, so two processes cannot both pass a cap check.
    this.#createTx = db.transaction((record: SessionRecord, limits: CreateLimits, now: number): CreateOutcome => {
      if (this.#stmt.exists.get(record.id)) return 'duplicate';
      // Expired rows are excluded by the index range; they do not count toward the caps.
      if (Number.isFinite(limits.maxSessions) && this.#stmt.countAll.get(now, limits.maxSessions)!.n >= limits.maxSessions)
        return 'cap-global';
      const ownLimit = principalLimit(limits, record.principal);
      if (Number.isFinite(ownLimit) && this.#countOf(record.principal, now, ownLimit) >= ownLimit) return 'cap-principal';
      const { id, principal, lastSeenAt, idleExpiresAt, absoluteExpiresAt, ...data } = record;
      this.#stmt.insert.run(
        id,
        principal,
        lastSeenAt,
        idleExpiresAt,
        absoluteExpiresAt,
        expiresAt(record),
        JSON.stringify(data satisfies RecordData),
      );
      return 'created';
    });
    this.#sweepTx = db.transaction((now: number, limit: number): SessionRecord[] => {
      const rows = this.#stmt.due.all(now, limit);
      for (const row of rows) this.#stmt.remove.get(row.id);
      for (const row of rows) this.#cache.forget(row.id);
      return rows.map((row) => toRecord(row));
    });
  }

  async create(record: SessionRecord, limits: CreateLimits, now: number): Promise<CreateOutcome> {
    return this.#createTx.immediate(record, limits, now);
  }

  async get(id: string, now: number): Promise<SessionRecord | undefined> {
    const cached = this.#cache.get(id);
    if (cached !== undefined) return expiresAt(cached) > now ? cached : undefined;
    const row = this.#stmt.get.get(id, now);
    if (row === undefined) return undefined;
    const record = toRecord(row);
    this.#cache.set(record);
    return record;
  }

  async touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean> {
    const touched = this.#stmt.touch.run(lastSeenAt, idleExpiresAt, idleExpiresAt, id).changes > 0;
    // What the statement wrote, known here: the cached record slides with it.
    this.#cache.slide(id, lastSeenAt, idleExpiresAt, touched);
    return touched;
  }

  async writeState(id: string, key: string, value: JsonValue | undefined): Promise<boolean> {
    // One statement, so atomic against every writer of the file; a quoted path label takes any key.
    const path = `$.state.${JSON.stringify(key)}`;
    this.#cache.forget(id);
    const written =
      value === undefined ? this.#stmt.removeStateKey.run(path, id) : this.#stmt.setStateKey.run(path, JSON.stringify(value), id);
    return written.changes > 0;
  }

  async setProtocolVersion(id: string, protocolVersion: string): Promise<boolean> {
    this.#cache.forget(id);
    return this.#patch(id, { protocolVersion });
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    this.#cache.forget(id);
    const row = this.#stmt.remove.get(id);
    return row && toRecord(row);
  }

  async sweepExpired(now: number, limit: number): Promise<SessionRecord[]> {
    return this.#sweepTx.immediate(now, limit);
  }

  async soonestToExpire(scope: VictimScope, now: number): Promise<string | undefined> {
    const row =
      scope === 'anyone'
        ? this.#stmt.soonest.get(now)
        : scope.principal === null
          ? this.#stmt.soonestAnonymous.get(now)
          : this.#stmt.soonestOf.get(scope.principal, now);
    return row?.id;
  }

  /** Live sessions of a principal (null: anonymous), counted up to `limit`. */
  #countOf(principal: string | null, now: number, limit: number): number {
    return (principal === null ? this.#stmt.countAnonymous.get(now, limit) : this.#stmt.countPrincipal.get(principal, now, limit))!.n;
  }

  async list(cursor: string | undefined, limit: number, now: number): Promise<{ records: SessionRecord[]; next: string | undefined }> {
    const rows = this.#stmt.page.all(cursor ?? '', now, limit + 1);
    const records = rows.slice(0, limit).map((row) => toRecord(row));
    return { records, next: rows.length > limit ? records.at(-1)!.id : undefined };
  }

  async count(): Promise<number> {
    return this.#stmt.count.get()!.n;
  }

  #patch(id: string, patch: Partial<RecordData>): boolean {
    return this.#db
      .transaction(() => {
        const row = this.#stmt.getData.get(id);
        if (!row) return false;
        this.#stmt.setData.run(JSON.stringify({ ...(JSON.parse(row.data) as RecordData), ...patch }), id);
        return true;
      })
      .immediate();
  }
}

function toRecord(row: Row): SessionRecord {
  return {
    ...(JSON.parse(row.data) as RecordData),
    id: row.id,
    principal: row.principal,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
  };
}

/** Records kept at most (the oldest read first let go). */
const MAX_CACHED = 10_000;

/**
 * The records as last read or written here, trusted while no other connection has committed
 * to the file: SQLite's `PRAGMA data_version` changes exactly then, so one small statement
 * (3.8 µs against 7.2 µs for the row, before parsing it) replaces reading and parsing the row on
 * every request (the largest item of the gateway's request path, bench/RESULTS.md "Issue 36");
 * a write by another process sharing the file empties the cache before the next read, so it is
 * seen at once. Looking less often would save the rest but let a read miss such a write. A write of this connection
 * updates (touch) or drops (the rest) its own entry. Records are read-only (store/record.ts),
 * so readers share them.
 */
class RecordCache {
  readonly #byId = new Map<string, SessionRecord>();
  readonly #dataVersion: () => number;
  #version: number | undefined;

  constructor(dataVersion: () => number) {
    this.#dataVersion = dataVersion;
  }

  get(id: string): SessionRecord | undefined {
    const version = this.#dataVersion();
    if (version !== this.#version) {
      this.#byId.clear();
      this.#version = version;
      return undefined;
    }
    return this.#byId.get(id);
  }

  set(record: SessionRecord): void {
    if (!this.#byId.has(record.id) && this.#byId.size >= MAX_CACHED) this.#byId.delete(this.#byId.keys().next().value!);
    this.#byId.set(record.id, record);
  }

  /** This connection slid the session's idle deadline (or found it gone). */
  slide(id: string, lastSeenAt: number, idleExpiresAt: number, touched: boolean): void {
    const cached = this.#byId.get(id);
    if (cached === undefined) return;
    if (touched) this.#byId.set(id, { ...cached, lastSeenAt, idleExpiresAt });
    else this.#byId.delete(id);
  }

  forget(id: string): void {
    this.#byId.delete(id);
  }
}

/** Every statement of the session table, prepared once per database. */
function prepareStatements(db: Database.Database) {
  return {
    exists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM sessions WHERE id = ?'),
    // Bounded by the cap: counting stops once the cap is reached.
    countAll: db.prepare<[number, number], { n: number }>(
      'SELECT count(*) AS n FROM (SELECT 1 FROM sessions WHERE expires_at > ? LIMIT ?)',
    ),
    countPrincipal: db.prepare<[string, number, number], { n: number }>(
      'SELECT count(*) AS n FROM (SELECT 1 FROM sessions WHERE principal = ? AND expires_at > ? LIMIT ?)',
    ),
    countAnonymous: db.prepare<[number, number], { n: number }>(
      'SELECT count(*) AS n FROM (SELECT 1 FROM sessions WHERE principal IS NULL AND expires_at > ? LIMIT ?)',
    ),
    insert: db.prepare(
      'INSERT INTO sessions (id, principal, last_seen_at, idle_expires_at, absolute_expires_at, expires_at, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    get: db.prepare<[string, number], Row>('SELECT * FROM sessions WHERE id = ? AND expires_at > ?'),
    touch: db.prepare('UPDATE sessions SET last_seen_at = ?, idle_expires_at = ?, expires_at = min(?, absolute_expires_at) WHERE id = ?'),
    getData: db.prepare<[string], { data: string }>('SELECT data FROM sessions WHERE id = ?'),
    setData: db.prepare('UPDATE sessions SET data = ? WHERE id = ?'),
    setStateKey: db.prepare<[string, string, string]>('UPDATE sessions SET data = json_set(data, ?, json(?)) WHERE id = ?'),
    removeStateKey: db.prepare<[string, string]>('UPDATE sessions SET data = json_remove(data, ?) WHERE id = ?'),
    remove: db.prepare<[string], Row>('DELETE FROM sessions WHERE id = ? RETURNING *'),
    due: db.prepare<[number, number], Row>('SELECT * FROM sessions WHERE expires_at <= ? ORDER BY expires_at LIMIT ?'),
    count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sessions'),
    soonest: db.prepare<[number], { id: string }>('SELECT id FROM sessions WHERE expires_at > ? ORDER BY expires_at LIMIT 1'),
    soonestOf: db.prepare<[string, number], { id: string }>(
      'SELECT id FROM sessions WHERE principal = ? AND expires_at > ? ORDER BY expires_at LIMIT 1',
    ),
    soonestAnonymous: db.prepare<[number], { id: string }>(
      'SELECT id FROM sessions WHERE principal IS NULL AND expires_at > ? ORDER BY expires_at LIMIT 1',
    ),
    page: db.prepare<[string, number, number], Row>('SELECT * FROM sessions WHERE id > ? AND expires_at > ? ORDER BY id LIMIT ?'),
  };
}
