/**
 * @module store/sqlite
 * The embedded durable store (better-sqlite3, WAL). A session committed here survives a restart
 * and a kill -9: WAL with synchronous=NORMAL loses nothing when the process dies (only an OS
 * crash or power loss can drop the last transactions). Several processes may share one file.
 */
import { checkOptions, option } from '../../protocol/options.js';
import type Database from 'better-sqlite3';
import { loadDriver } from '../driver.js';
import type { JsonValue } from '../../protocol/jsonrpc.js';
import { expiresAt, type SessionRecord } from '../record.js';
import { type Row, SCHEMA } from './sqlite-schema.js';
import { SqliteStreamLog } from './sqlite-stream-log.js';
import type { StreamLog } from '../stream-log.js';
import { bucketLifetimeMs, takeFrom } from '../token-bucket.js';
import type { ApprovalRecord, ApprovalStatus } from '../approval-record.js';
import { type CreateLimits, type CreateOutcome, principalLimit, type SessionStore, type VictimScope } from '../store.js';

export interface SqliteStoreOptions {
  /** Milliseconds to wait for another process's write lock. Default 5000. */
  busyTimeoutMs?: number;
}

/** The parts of a record that never change after create, plus `state`. */
type RecordData = Omit<SessionRecord, 'id' | 'principal' | 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt'>;

export class SqliteStore implements SessionStore {
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof prepareStatements>;
  readonly #createTx;
  readonly #sweepTx;
  readonly #takeTx;
  readonly #openApprovalTx;
  readonly streamLog: StreamLog;
  readonly #parsed = new ParsedData();

  /** `path` is a file (created if missing) or ':memory:'. */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    checkOptions({ busyTimeoutMs: option.nonNegativeInteger }, options);
    const busy = options.busyTimeoutMs ?? 5000;
    this.#db = openDatabase(path, busy);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.exec(SCHEMA);
    const db = this.#db;
    this.#stmt = prepareStatements(db);
    this.streamLog = new SqliteStreamLog(db);
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
    // One read and one write under the write lock: processes sharing the file share the buckets.
    this.#takeTx = db.transaction((key: string, capacity: number, refillPerMs: number, now: number): number => {
      const { bucket, waitMs } = takeFrom(this.#stmt.getBucket.get(key), capacity, refillPerMs, now);
      this.#stmt.putBucket.run(key, bucket.tokens, bucket.at, now + bucketLifetimeMs(capacity, refillPerMs));
      return waitMs;
    });
    this.#openApprovalTx = db.transaction((record: ApprovalRecord, now: number): ApprovalRecord => {
      this.#stmt.dropExpiredApproval.run(record.id, now);
      this.#stmt.putApproval.run(record.id, record.status, record.createdAt, record.expiresAt, JSON.stringify(record));
      return JSON.parse(this.#stmt.getApproval.get(record.id, now)!.data) as ApprovalRecord;
    });
    this.#sweepTx = db.transaction((now: number, limit: number): SessionRecord[] => {
      const rows = this.#stmt.due.all(now, limit);
      for (const row of rows) this.#stmt.remove.get(row.id);
      this.#stmt.forgetBuckets.run(now, limit); // full again: the same as no bucket
      this.#stmt.forgetApprovals.run(now, limit);
      for (const row of rows) this.#parsed.forget(row.id);
      return rows.map((row) => toRecord(row));
    });
  }

  async create(record: SessionRecord, limits: CreateLimits, now: number): Promise<CreateOutcome> {
    return this.#createTx.immediate(record, limits, now);
  }

  async get(id: string, now: number): Promise<SessionRecord | undefined> {
    const row = this.#stmt.get.get(id, now);
    return row && toRecord(row, this.#parsed.of(row));
  }

  async touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean> {
    return this.#stmt.touch.run(lastSeenAt, idleExpiresAt, idleExpiresAt, id).changes > 0;
  }

  async writeState(id: string, key: string, value: JsonValue | undefined): Promise<boolean> {
    // One statement, so atomic against every writer of the file; a quoted path label takes any key.
    const path = `$.state.${JSON.stringify(key)}`;
    const written =
      value === undefined ? this.#stmt.removeStateKey.run(path, id) : this.#stmt.setStateKey.run(path, JSON.stringify(value), id);
    return written.changes > 0;
  }

  async setProtocolVersion(id: string, protocolVersion: string): Promise<boolean> {
    return this.#patch(id, { protocolVersion });
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    this.#parsed.forget(id);
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

  async takeToken(key: string, capacity: number, refillPerMs: number, now: number): Promise<number> {
    return this.#takeTx.immediate(key, capacity, refillPerMs, now);
  }

  async sharedSecret(name: string, create: () => string): Promise<string> {
    // INSERT OR IGNORE then read: every process ends up with the first value written.
    this.#stmt.putSecret.run(name, create());
    return this.#stmt.getSecret.get(name)!.value;
  }

  async openApproval(record: ApprovalRecord, now: number): Promise<ApprovalRecord> {
    return this.#openApprovalTx.immediate(record, now);
  }

  async getApproval(id: string, now: number): Promise<ApprovalRecord | undefined> {
    const row = this.#stmt.getApproval.get(id, now);
    return row && (JSON.parse(row.data) as ApprovalRecord);
  }

  async listApprovals(now: number, limit: number): Promise<ApprovalRecord[]> {
    return this.#stmt.pendingApprovals.all(now, limit).map((row) => JSON.parse(row.data) as ApprovalRecord);
  }

  async moveApproval(id: string, from: ApprovalStatus, next: ApprovalRecord | undefined, now: number): Promise<boolean> {
    // One statement each: the status check and the change are atomic across processes.
    const changed = next
      ? this.#stmt.replaceApproval.run(next.status, next.expiresAt, JSON.stringify(next), id, from, now)
      : this.#stmt.removeApproval.run(id, from, now);
    return changed.changes === 1;
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
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

function toRecord(row: Row, data: RecordData = JSON.parse(row.data) as RecordData): SessionRecord {
  return {
    ...data,
    id: row.id,
    principal: row.principal,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
  };
}

/** Parsed record data kept for at most this many sessions (the oldest first let go). */
const MAX_PARSED = 10_000;

/**
 * The record data of each session as last read here, by its text: a session read again on every
 * request, unchanged, is compared (a string compare) instead of parsed again, which was half of
 * the per-request store cost on the gateway's path (bench/RESULTS.md, "Issue 36"). The row is
 * still read every time, so a write by another process sharing the file is seen at once. The
 * parsed objects are shared between reads, as the memory store shares its records: records are
 * read-only (store/record.ts).
 */
class ParsedData {
  readonly #byId = new Map<string, { text: string; data: RecordData }>();

  of(row: Row): RecordData {
    const known = this.#byId.get(row.id);
    if (known !== undefined && known.text === row.data) return known.data;
    const data = JSON.parse(row.data) as RecordData;
    if (known === undefined && this.#byId.size >= MAX_PARSED) this.#byId.delete(this.#byId.keys().next().value!);
    this.#byId.set(row.id, { text: row.data, data });
    return data;
  }

  forget(id: string): void {
    this.#byId.delete(id);
  }
}

/** Opens (creating if missing) the database file, with errors that say what to do. */
function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  const Driver = loadDriver<typeof Database>('better-sqlite3', 'the SQLite store');
  try {
    return new Driver(path, { timeout: busyTimeoutMs });
  } catch (error) {
    // better-sqlite3 says "unable to open database file" without the path; an install that
    // skipped its build script fails here too.
    if (String((error as Error).message).includes('bindings file')) {
      // eslint-disable-next-line preserve-caught-error -- its cause is a list of a dozen paths that buries the fix
      throw new Error(
        "the SQLite store's driver better-sqlite3 is installed but not built (its install script did not run): npm rebuild better-sqlite3",
      );
    }
    throw new Error(`cannot open the SQLite database ${path}`, { cause: error });
  }
}

/** Every statement the store runs, prepared once per database. */
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
    getSecret: db.prepare<[string], { value: string }>('SELECT value FROM secrets WHERE name = ?'),
    putSecret: db.prepare('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)'),
    getBucket: db.prepare<[string], { tokens: number; at: number }>('SELECT tokens, at FROM buckets WHERE key = ?'),
    putBucket: db.prepare('INSERT OR REPLACE INTO buckets (key, tokens, at, forget_at) VALUES (?, ?, ?, ?)'),
    forgetBuckets: db.prepare('DELETE FROM buckets WHERE key IN (SELECT key FROM buckets WHERE forget_at <= ? LIMIT ?)'),
    getApproval: db.prepare<[string, number], { data: string }>('SELECT data FROM approvals WHERE id = ? AND expires_at > ?'),
    dropExpiredApproval: db.prepare('DELETE FROM approvals WHERE id = ? AND expires_at <= ?'),
    putApproval: db.prepare('INSERT OR IGNORE INTO approvals (id, status, created_at, expires_at, data) VALUES (?, ?, ?, ?, ?)'),
    pendingApprovals: db.prepare<[number, number], { data: string }>(
      "SELECT data FROM approvals WHERE status = 'pending' AND expires_at > ? ORDER BY created_at LIMIT ?",
    ),
    replaceApproval: db.prepare('UPDATE approvals SET status = ?, expires_at = ?, data = ? WHERE id = ? AND status = ? AND expires_at > ?'),
    removeApproval: db.prepare('DELETE FROM approvals WHERE id = ? AND status = ? AND expires_at > ?'),
    forgetApprovals: db.prepare('DELETE FROM approvals WHERE id IN (SELECT id FROM approvals WHERE expires_at <= ? LIMIT ?)'),
  };
}
