/**
 * @module store/sqlite
 * The embedded durable backend (better-sqlite3, WAL): every capability (store/store.ts) in one
 * database file. A session committed here survives a restart
 * and a kill -9: WAL with synchronous=NORMAL loses nothing when the process dies (only an OS
 * crash or power loss can drop the last transactions). Several processes may share one file.
 */
import { checkOptions, option } from '../../protocol/options.js';
import type Database from 'better-sqlite3';
import { loadDriver } from '../driver.js';
import { SCHEMA } from './sqlite-schema.js';
import { SqliteStreamLog } from './sqlite-stream-log.js';
import type { SessionStore } from '../store.js';
import { SqliteApprovals } from './sqlite-approvals.js';
import { SqliteGrants } from './sqlite-grants.js';
import { SqliteBuckets } from './sqlite-buckets.js';
import { SqliteSecrets } from './sqlite-secrets.js';
import { SqliteSessions } from './sqlite-sessions.js';

export interface SqliteStoreOptions {
  /** Milliseconds to wait for another process's write lock. Default 5000. */
  busyTimeoutMs?: number;
}

export class SqliteStore implements SessionStore {
  readonly #db: Database.Database;
  readonly sessions: SqliteSessions;
  readonly secrets: SqliteSecrets;
  readonly buckets: SqliteBuckets;
  readonly approvals: SqliteApprovals;
  readonly grants: SqliteGrants;
  readonly streamLog: SqliteStreamLog;

  /** `path` is a file (created if missing) or ':memory:'. */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    checkOptions({ busyTimeoutMs: option.nonNegativeInteger }, options);
    const busy = options.busyTimeoutMs ?? 5000;
    const db = openDatabase(path, busy);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    this.#db = db;
    this.sessions = new SqliteSessions(db);
    this.secrets = new SqliteSecrets(db);
    this.buckets = new SqliteBuckets(db);
    this.approvals = new SqliteApprovals(db);
    this.grants = new SqliteGrants(db);
    this.streamLog = new SqliteStreamLog(db);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
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
