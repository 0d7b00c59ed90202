/**
 * @module store/sqlite/sqlite-approvals
 * Operator approvals in SQLite (store/approval-record.ts): every change one statement or one
 * transaction, so the status check and the change are atomic across processes. Each open also
 * drops two approvals past their time, so what is kept stays bounded by what is open.
 */
import type Database from 'better-sqlite3';
import type { ApprovalRecord, ApprovalStatus, ApprovalStore } from '../approval-record.js';

/** Expired approvals dropped per open. */
const FORGET_PER_OPEN = 2;

export class SqliteApprovals implements ApprovalStore {
  readonly #stmt;
  readonly #openTx;

  constructor(db: Database.Database) {
    const stmt = {
      getApproval: db.prepare<[string, number], { data: string }>('SELECT data FROM approvals WHERE id = ? AND expires_at > ?'),
      dropExpiredApproval: db.prepare('DELETE FROM approvals WHERE id = ? AND expires_at <= ?'),
      putApproval: db.prepare('INSERT OR IGNORE INTO approvals (id, status, created_at, expires_at, data) VALUES (?, ?, ?, ?, ?)'),
      pendingApprovals: db.prepare<[number, number], { data: string }>(
        "SELECT data FROM approvals WHERE status = 'pending' AND expires_at > ? ORDER BY created_at LIMIT ?",
      ),
      replaceApproval: db.prepare(
        'UPDATE approvals SET status = ?, expires_at = ?, data = ? WHERE id = ? AND status = ? AND expires_at > ?',
      ),
      removeApproval: db.prepare('DELETE FROM approvals WHERE id = ? AND status = ? AND expires_at > ?'),
      forgetApprovals: db.prepare('DELETE FROM approvals WHERE id IN (SELECT id FROM approvals WHERE expires_at <= ? LIMIT ?)'),
    };
    this.#stmt = stmt;
    this.#openTx = db.transaction((record: ApprovalRecord, now: number): ApprovalRecord => {
      stmt.forgetApprovals.run(now, FORGET_PER_OPEN);
      stmt.dropExpiredApproval.run(record.id, now);
      stmt.putApproval.run(record.id, record.status, record.createdAt, record.expiresAt, JSON.stringify(record));
      return JSON.parse(stmt.getApproval.get(record.id, now)!.data) as ApprovalRecord;
    });
  }

  async open(record: ApprovalRecord, now: number): Promise<ApprovalRecord> {
    return this.#openTx.immediate(record, now);
  }

  async get(id: string, now: number): Promise<ApprovalRecord | undefined> {
    const row = this.#stmt.getApproval.get(id, now);
    return row && (JSON.parse(row.data) as ApprovalRecord);
  }

  async list(now: number, limit: number): Promise<ApprovalRecord[]> {
    return this.#stmt.pendingApprovals.all(now, limit).map((row) => JSON.parse(row.data) as ApprovalRecord);
  }

  async move(id: string, from: ApprovalStatus, next: ApprovalRecord | undefined, now: number): Promise<boolean> {
    // One statement each: the status check and the change are atomic across processes.
    const changed = next
      ? this.#stmt.replaceApproval.run(next.status, next.expiresAt, JSON.stringify(next), id, from, now)
      : this.#stmt.removeApproval.run(id, from, now);
    return changed.changes === 1;
  }
}
