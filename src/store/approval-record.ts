/**
 * @module store/approval-record
 * An operator approval as the store keeps it (docs/POLICY.md, "Operator approval"): a call
 * waiting for a person at the admin API, kept where every replica sees it and a restart does
 * not lose it. It is pending until an operator decides or it times out; a decided one is kept
 * until the call it is for collects the decision (exactly one call does: `moveApproval` is a
 * compare-and-set on the status) or its collection window passes.
 */
import type { JsonObject } from '../protocol/jsonrpc.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied';

export interface ApprovalRecord {
  /** Derived from the call (who, session, method, name, arguments), so an identical retry finds it. */
  readonly id: string;
  readonly status: ApprovalStatus;
  readonly createdAt: number;
  /** Kept until then: pending, until it times out; decided, until collected. */
  readonly expiresAt: number;
  /** What the operator is shown (session tag, who, what, with which arguments, the rule). Never a credential. */
  readonly call: JsonObject;
  /** Who decided (the operator's admin identity), when, and the reason given to the caller. */
  readonly decidedBy?: string;
  readonly decidedAt?: number;
  readonly reason?: string;
}

/** How many pending approvals a store lists at most at once. */
export const MAX_LISTED_APPROVALS = 500;

/** The store's approvals on its own clock: what applications get (SessionPort.approvals). */
export interface ApprovalBook {
  /** SessionStore.openApproval: the approval kept under `record.id` (this one, if none was). */
  open(record: ApprovalRecord): Promise<ApprovalRecord>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Pending approvals, oldest first. */
  list(limit: number): Promise<ApprovalRecord[]>;
  /** SessionStore.moveApproval: true when this caller moved it from `from`. */
  move(id: string, from: ApprovalStatus, next: ApprovalRecord | undefined): Promise<boolean>;
}
