/**
 * @module store/session-table
 * The session records of a store (docs/ARCHITECTURE.md, "The record and the cache"): created
 * under caps as one atomic step, read, slid, changed one state key at a time, ended, swept,
 * listed. One capability of the backend (store.ts); its contract suite is
 * test/helpers/store-contract.ts.
 */
import type { JsonValue } from '../protocol/jsonrpc.js';
import type { SessionRecord } from './record.js';

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

export interface SessionTable {
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
}
