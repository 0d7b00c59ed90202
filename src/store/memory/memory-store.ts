/**
 * @module store/memory
 * The in-process backend (store/store.ts): every capability kept in this process, gone with it.
 */
import type { SessionStore } from '../store.js';
import { MemoryApprovals } from './memory-approvals.js';
import { MemoryBuckets } from './memory-buckets.js';
import { MemoryGrants } from './memory-grants.js';
import { MemorySecrets } from './memory-secrets.js';
import { MemorySessions } from './memory-sessions.js';
import { MemoryStreamLog } from './memory-stream-log.js';

export class MemoryStore implements SessionStore {
  readonly sessions = new MemorySessions();
  readonly secrets = new MemorySecrets();
  readonly buckets = new MemoryBuckets();
  readonly approvals = new MemoryApprovals();
  readonly grants = new MemoryGrants();
  readonly streamLog = new MemoryStreamLog();

  async close(): Promise<void> {}
}
