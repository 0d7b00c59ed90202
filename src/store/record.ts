/**
 * @module store/record
 * The session record: the truth about a session, kept by a SessionStore. Everything
 * process-local (SDK instances, child processes, streams) is a cache of this (docs/ARCHITECTURE.md, "The record and the cache").
 */
import type { JsonObject } from '../protocol/jsonrpc.js';

export interface SessionRecord {
  /** S2: >= 128 bits from the CSPRNG, base64url, visible ASCII. Never logged. */
  readonly id: string;
  /** A keyed hash of the authenticated identity; null for anonymous sessions. */
  readonly principal: string | null;
  /** The negotiated protocol revision. */
  readonly protocolVersion: string;
  /** The `initialize` params as received: replayed on resurrection. */
  readonly initialize: JsonObject;
  /** `Mcp-Client-Session-Id` sent with `initialize` (SEP-2822 draft), if any. */
  readonly clientSessionId: string | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Last request seen (coarse: updated only when the touch threshold passes). */
  readonly lastSeenAt: number;
  /** Sliding idle deadline: lastSeenAt + idle timeout. */
  readonly idleExpiresAt: number;
  /** Absolute deadline: createdAt + max lifetime. Never moves. */
  readonly absoluteExpiresAt: number;
  /** Small JSON the application keeps per session; persisted. */
  readonly state: JsonObject;
}

/** The moment a record stops being valid. */
export function expiresAt(record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>): number {
  return Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
}

export function isLive(record: Pick<SessionRecord, 'idleExpiresAt' | 'absoluteExpiresAt'>, now: number): boolean {
  return expiresAt(record) > now;
}

/** Why a session ended; carried to disposers and audit. */
export type EndReason = 'delete' | 'idle' | 'lifetime' | 'cap' | 'shutdown' | 'admin';

export function expiryReason(record: SessionRecord): EndReason {
  return record.absoluteExpiresAt <= record.idleExpiresAt ? 'lifetime' : 'idle';
}
