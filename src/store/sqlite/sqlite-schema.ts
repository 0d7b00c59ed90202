/**
 * @module store/sqlite/sqlite-schema
 * The SQLite store's tables: the times and keys it queries by as columns, the rest of a record
 * as JSON.
 */

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
CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL, forget_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS buckets_by_age ON buckets (forget_at);
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  data TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS approvals_pending ON approvals (created_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS approvals_by_expiry ON approvals (expires_at);
CREATE TABLE IF NOT EXISTS grants (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS grants_by_expiry ON grants (expires_at);
`;
