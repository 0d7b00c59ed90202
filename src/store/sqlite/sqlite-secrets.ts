/**
 * @module store/sqlite/sqlite-secrets
 * Secrets in SQLite (store/secret-store.ts): the first value written is everybody's.
 */
import type Database from 'better-sqlite3';
import type { SecretStore } from '../secret-store.js';

export class SqliteSecrets implements SecretStore {
  readonly #stmt;

  constructor(db: Database.Database) {
    this.#stmt = {
      getSecret: db.prepare<[string], { value: string }>('SELECT value FROM secrets WHERE name = ?'),
      putSecret: db.prepare('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)'),
    };
  }

  async shared(name: string, create: () => string): Promise<string> {
    // INSERT OR IGNORE then read: every process ends up with the first value written.
    this.#stmt.putSecret.run(name, create());
    return this.#stmt.getSecret.get(name)!.value;
  }
}
