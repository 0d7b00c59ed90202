/**
 * @module store/store
 * The one async contract every session store implements, and that one shared contract test
 * suite (test/store-contract.ts) checks for each of them.
 */
import type { JsonValue } from '../protocol/jsonrpc.js';
import type { ApprovalRecord, ApprovalStatus } from './approval-record.js';
import type { SessionBus } from './bus.js';
import type { SessionRecord } from './record.js';
import type { StreamLog } from './stream-log.js';

/** Caps checked atomically with the insert. `Infinity` means no cap. */
export interface CreateLimits {
  readonly maxSessions: number;
  readonly maxSessionsPerPrincipal: number;
  /** Anonymous sessions (principal null) are one bucket with a cap of its own. */
  readonly maxAnonymousSessions: number;
}

/** The cap a new record of `principal` is held to: anonymous sessions share one bucket. */
export function principalLimit(limits: CreateLimits, principal: string | null): number {
  return principal === null ? limits.maxAnonymousSessions : limits.maxSessionsPerPrincipal;
}

/** Whose sessions an eviction may pick from: one principal's (null: the anonymous ones), or anyone's. */
export type VictimScope = { readonly principal: string | null } | 'anyone';

export type CreateOutcome = 'created' | 'duplicate' | 'cap-global' | 'cap-principal';

export interface SessionStore {
  /**
   * Inserts the record unless its id exists or a cap would be passed, as one atomic step:
   * 'cap-principal' when its principal's bucket is full (`principalLimit`, anonymous sessions
   * included). Sessions already expired at `now` do not count toward the caps.
   */
  create(record: SessionRecord, limits: CreateLimits, now: number): Promise<CreateOutcome>;
  /** The record, or undefined when it does not exist or has expired at `now`. */
  get(id: string, now: number): Promise<SessionRecord | undefined>;
  /** Slides the idle deadline. False when the session no longer exists. */
  touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean>;
  /**
   * Sets one key of `state` (undefined removes it) as one atomic step: a write of another key,
   * from this process or another, is never lost. False when the session no longer exists.
   */
  writeState(id: string, key: string, value: JsonValue | undefined): Promise<boolean>;
  /** Sets the negotiated protocol version after the application answered initialize. */
  setProtocolVersion(id: string, protocolVersion: string): Promise<boolean>;
  /**
   * Removes the session; idempotent. Returns the record when this call removed a live one, so
   * exactly one caller (across replicas) learns it ended.
   */
  delete(id: string): Promise<SessionRecord | undefined>;
  /**
   * Removes and returns up to `limit` sessions whose deadline is at or before `now`. Its cost
   * grows with the number that expired, not with the number alive.
   */
  sweepExpired(now: number, limit: number): Promise<SessionRecord[]>;
  /**
   * The id of the live session whose deadline comes first, among those of one principal
   * (anonymous ones when it is null) or among all: the victim of cap eviction. With sliding
   * idle expiry that is the least recently used session (to the touch granularity), unless one
   * is about to reach its absolute lifetime first.
   */
  soonestToExpire(scope: VictimScope, now: number): Promise<string | undefined>;
  /**
   * A page of live sessions for the admin API. `cursor` is opaque: pass back `next` until it is
   * undefined. Pages may be smaller than `limit`; every session live throughout appears once.
   */
  list(cursor: string | undefined, limit: number, now: number): Promise<{ records: SessionRecord[]; next: string | undefined }>;
  /** Live (not yet swept) sessions; for metrics and tests. */
  count(): Promise<number>;
  /**
   * A secret shared by every process using this store (the principal hashing key): created on
   * first use, the same value for everybody afterwards, surviving restarts.
   */
  sharedSecret(name: string, create: () => string): Promise<string>;
  /**
   * Takes one token from the rate-limit bucket `key` (up to `capacity` tokens, refilled evenly
   * at `refillPerMs`) as one atomic step, across every process using this store: 0 when taken,
   * else the ms until one will be there (store/token-bucket.ts).
   */
  takeToken(key: string, capacity: number, refillPerMs: number, now: number): Promise<number>;
  /**
   * Keeps the approval `record.id` unless one under that id is still kept (then that one is
   * returned, untouched): every process using this store asks for one call once.
   */
  openApproval(record: ApprovalRecord, now: number): Promise<ApprovalRecord>;
  /** The approval `id` while it is kept. */
  getApproval(id: string, now: number): Promise<ApprovalRecord | undefined>;
  /** Pending approvals, oldest first, at most `limit`. */
  listApprovals(now: number, limit: number): Promise<ApprovalRecord[]>;
  /**
   * Replaces the approval `id` with `next` (forgets it when `next` is undefined) only if its
   * status is still `from`, as one atomic step: true when this caller moved it.
   */
  moveApproval(id: string, from: ApprovalStatus, next: ApprovalRecord | undefined, now: number): Promise<boolean>;
  /**
   * How replicas sharing this store tell each other about sessions (pub/sub on Redis). Absent
   * for a store only one process uses (memory, SQLite).
   */
  readonly bus?: SessionBus;
  /**
   * The event log of resumable SSE streams (store/stream-log.ts). Absent for a store that
   * keeps none: its streams then carry no event ids.
   */
  readonly streamLog?: StreamLog;
  close(): Promise<void>;
}
