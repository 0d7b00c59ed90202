/**
 * @module store/store
 * The backend a session server runs on: small capability stores, each an interface with memory,
 * SQLite and Redis drivers and its own contract suite (test/helpers/store-contract.ts), so a
 * part that needs one capability takes that one (docs/ARCHITECTURE.md, "The backend"). A driver
 * (MemoryStore, SqliteStore, RedisStore) gives all of them over one connection.
 */
import type { ApprovalStore } from './approval-record.js';
import type { BucketStore } from './bucket-store.js';
import type { GrantStore } from './grant-store.js';
import type { SessionBus } from './bus.js';
import type { SecretStore } from './secret-store.js';
import type { SessionTable } from './session-table.js';
import type { StreamLog } from './stream-log.js';

export interface SessionStore {
  /** Session records, created under caps (session-table.ts). */
  readonly sessions: SessionTable;
  /** Secrets every process on the backend shares (the principal hashing key, signing keys). */
  readonly secrets: SecretStore;
  /** Rate-limit buckets every process on the backend shares (the policy's `rateLimit`). */
  readonly buckets: BucketStore;
  /** Operator approvals every process on the backend sees (the policy's `approver: operator`). */
  readonly approvals: ApprovalStore;
  /**
   * What the gateway's authorization server keeps (clients, codes, consents, refresh families).
   * Absent in a backend that keeps none: the gateway then cannot issue tokens (`--auth oauth`).
   */
  readonly grants?: GrantStore;
  /**
   * How replicas sharing this backend tell each other about sessions (pub/sub on Redis). Absent
   * for a backend only one process uses (memory, SQLite).
   */
  readonly bus?: SessionBus;
  /**
   * The event log of resumable SSE streams (stream-log.ts). Absent for a backend that keeps
   * none: its streams then carry no event ids.
   */
  readonly streamLog?: StreamLog;
  /** Closes the connection under all of them. */
  close(): Promise<void>;
}
