/**
 * @module store/sqlite/sqlite-statements
 * The SQLite store's table and every statement it runs, prepared once per database.
 */
import type Database from 'better-sqlite3';

/** A session row: the times the store queries by, as columns; the rest of the record as JSON. */
export interface Row {
  id: string;
  principal: string | null;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  data: string;
}

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  principal TEXT,
  last_seen_at INTEGER NOT NULL,
  idle_expires_at INTEGER NOT NULL,
  absolute_expires_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  data TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE INDEX IF NOT EXISTS sessions_by_principal ON sessions (principal) WHERE principal IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_anonymous ON sessions (expires_at) WHERE principal IS NULL;
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database.Database) {
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
  };
}
