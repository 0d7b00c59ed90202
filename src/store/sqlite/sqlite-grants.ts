/**
 * @module store/sqlite/sqlite-grants
 * The authorization server's records in SQLite (store/grant-store.ts): each change one
 * statement, so a compare-and-set is atomic across the processes sharing the file; each add
 * drops two rows past their time.
 */
import type Database from 'better-sqlite3';
import type { GrantStore } from '../grant-store.js';

const SWEEP_PER_ADD = 2;

export class SqliteGrants implements GrantStore {
  readonly #stmt;

  constructor(db: Database.Database) {
    this.#stmt = {
      dropExpired: db.prepare('DELETE FROM grants WHERE key = ? AND expires_at <= ?'),
      add: db.prepare('INSERT OR IGNORE INTO grants (key, value, expires_at) VALUES (?, ?, ?)'),
      get: db.prepare<[string, number], { value: string }>('SELECT value FROM grants WHERE key = ? AND expires_at > ?'),
      replace: db.prepare('UPDATE grants SET value = ?, expires_at = ? WHERE key = ? AND value = ? AND expires_at > ?'),
      remove: db.prepare('DELETE FROM grants WHERE key = ? AND value = ? AND expires_at > ?'),
      sweep: db.prepare('DELETE FROM grants WHERE key IN (SELECT key FROM grants WHERE expires_at <= ? LIMIT ?)'),
    };
  }

  async add(key: string, value: string, expiresAt: number, now: number): Promise<boolean> {
    this.#stmt.sweep.run(now, SWEEP_PER_ADD);
    this.#stmt.dropExpired.run(key, now);
    return this.#stmt.add.run(key, value, expiresAt).changes === 1;
  }

  async get(key: string, now: number): Promise<string | undefined> {
    return this.#stmt.get.get(key, now)?.value;
  }

  async swap(key: string, expected: string, next: string | undefined, expiresAt: number, now: number): Promise<boolean> {
    const changed =
      next === undefined ? this.#stmt.remove.run(key, expected, now) : this.#stmt.replace.run(next, expiresAt, key, expected, now);
    return changed.changes === 1;
  }
}
