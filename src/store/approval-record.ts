/**
 * @module store/approval-record
 * An operator approval as the store keeps it (docs/POLICY.md, "Operator approval"): a call
 * waiting for a person at the admin API, kept where every replica sees it and a restart does
 * not lose it. It is pending until an operator decides or it times out; a decided one is kept
 * until the call it is for collects the decision (exactly one call does: `move` is a
 * compare-and-set on the status) or its collection window passes. `ApprovalStore` is the
 * backend's capability that keeps them (store.ts); `ApprovalBook` the same on a clock.
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

/** Operator approvals every process on a backend sees. */
export interface ApprovalStore {
  /**
   * Keeps the approval `record.id` unless one under that id is still kept (then that one is
   * returned, untouched): every process on the backend asks for one call once.
   */
  open(record: ApprovalRecord, now: number): Promise<ApprovalRecord>;
  /** The approval `id` while it is kept. */
  get(id: string, now: number): Promise<ApprovalRecord | undefined>;
  /** Pending approvals, oldest first, at most `limit`. */
  list(now: number, limit: number): Promise<ApprovalRecord[]>;
  /**
   * Replaces the approval `id` with `next` (forgets it when `next` is undefined) only if its
   * status is still `from`, as one atomic step: true when this caller moved it.
   */
  move(id: string, from: ApprovalStatus, next: ApprovalRecord | undefined, now: number): Promise<boolean>;
}

/** A backend's approvals on a clock: what the policy's approvals use. */
export interface ApprovalBook {
  /** ApprovalStore.open: the approval kept under `record.id` (this one, if none was). */
  open(record: ApprovalRecord): Promise<ApprovalRecord>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Pending approvals, oldest first. */
  list(limit: number): Promise<ApprovalRecord[]>;
  /** ApprovalStore.move: true when this caller moved it from `from`. */
  move(id: string, from: ApprovalStatus, next: ApprovalRecord | undefined): Promise<boolean>;
}

/** `store` read at `now()`. */
export function approvalBook(store: ApprovalStore, now: () => number): ApprovalBook {
  return {
    open: (record) => store.open(record, now()),
    get: (id) => store.get(id, now()),
    list: (limit) => store.list(now(), limit),
    move: (id, from, next) => store.move(id, from, next, now()),
  };
}
