/**
 * @module store/memory/memory-approvals
 * Operator approvals in this process (store/approval-record.ts), bounded: past the bound the
 * oldest go first (a forgotten pending one times out).
 */
import { type ApprovalRecord, type ApprovalStatus, type ApprovalStore, MAX_LISTED_APPROVALS } from '../approval-record.js';

/** Approvals kept at most. */
const MAX_APPROVALS = 10 * MAX_LISTED_APPROVALS;

export class MemoryApprovals implements ApprovalStore {
  /** In the order they were opened, so the oldest is first. */
  readonly #approvals = new Map<string, ApprovalRecord>();

  // No await between a read and its write: each of these is one step, as on the other stores.
  async open(record: ApprovalRecord, now: number): Promise<ApprovalRecord> {
    const kept = this.#approval(record.id, now);
    if (kept) return kept;
    this.#approvals.set(record.id, record);
    if (this.#approvals.size > MAX_APPROVALS) this.#approvals.delete(this.#approvals.keys().next().value!);
    return record;
  }

  async get(id: string, now: number): Promise<ApprovalRecord | undefined> {
    return this.#approval(id, now);
  }

  #approval(id: string, now: number): ApprovalRecord | undefined {
    const record = this.#approvals.get(id);
    if (record && record.expiresAt <= now) this.#approvals.delete(id);
    return record && record.expiresAt > now ? record : undefined;
  }

  async list(now: number, limit: number): Promise<ApprovalRecord[]> {
    const pending: ApprovalRecord[] = [];
    for (const record of [...this.#approvals.values()]) {
      if (record.expiresAt <= now) this.#approvals.delete(record.id);
      else if (record.status === 'pending' && pending.length < limit) pending.push(record);
    }
    return pending;
  }

  async move(id: string, from: ApprovalStatus, next: ApprovalRecord | undefined, now: number): Promise<boolean> {
    if (this.#approval(id, now)?.status !== from) return false;
    this.#approvals.delete(id);
    if (next) this.#approvals.set(id, next);
    return true;
  }
}
