/**
 * @module session/options
 * Session policy: expiry, caps and the store, with their defaults. Checked at construction with
 * messages that name the option.
 */
import type { SessionStore } from '../store/store.js';
import type { Clock } from './clock.js';
import { checkOptions, option, type OptionsSchema } from '../protocol/options.js';

export interface SessionOptions {
  /** Where records live. Default: a new MemoryStore (process-local, lost on restart). */
  store?: SessionStore;
  /** Sliding idle timeout in ms. Default 30 minutes. */
  idleTimeoutMs?: number;
  /** Absolute lifetime in ms, counted from initialize. Default 24 hours. */
  maxLifetimeMs?: number;
  /** Global cap on live sessions; past it initialize gets 503. Default: no cap. */
  maxSessions?: number;
  /** Cap on live sessions of one principal. Default: no cap. */
  maxSessionsPerPrincipal?: number;
  /**
   * Cap on live anonymous sessions (no identity), all together: anonymous callers are one
   * bucket, so they cannot walk around the per-principal cap. Default: `maxSessionsPerPrincipal`
   * (anonymous callers together count as one principal).
   */
  maxAnonymousSessions?: number;
  /**
   * What initialize meets past a cap. 'reject' (default): 503 with `Retry-After`. 'evict': the
   * caller's own session whose deadline comes first (with sliding expiry, its least recently
   * used; anonymous callers share one bucket) ends with reason 'cap', its resources are freed,
   * and the new session is admitted; a caller with no session of its own to give up gets the
   * 503, so nobody evicts another principal's session. 'evict-any': past the global cap, the
   * session whose deadline comes first whoever holds it (for deployments of one trust domain).
   */
  onCap?: CapPolicy;
  /** `Retry-After` seconds sent with a cap's 503. Default 30. */
  capRetryAfterSeconds?: number;
  /**
   * Fraction of the idle timeout that must pass before a request writes the new idle deadline
   * to the store. Default 0.1: with 30 minutes, at most one write per 3 minutes per session,
   * and a session expires between 0.9x and 1x the idle timeout after its last request.
   */
  touchFraction?: number;
  /** How often expired sessions are swept and their resources freed, in ms. 0 disables the
   * timer (call `sweep()` yourself). Default: a tenth of the idle timeout, at most 10 s. */
  sweepIntervalMs?: number;
  /** Key for hashing principals. Default: a random key kept in the store (shared by replicas). */
  principalKey?: string;
  /** Time source. Default: Date.now. */
  clock?: Clock;
  /** Called with errors from disposers and background sweeps. Default: ignore. */
  onError?: (error: unknown) => void;
}

export type CapPolicy = 'reject' | 'evict' | 'evict-any';

export interface ResolvedSessionOptions {
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
  readonly maxSessions: number;
  readonly maxSessionsPerPrincipal: number;
  readonly maxAnonymousSessions: number;
  readonly onCap: CapPolicy;
  readonly capRetryAfterSeconds: number;
  readonly touchIntervalMs: number;
  readonly sweepIntervalMs: number;
}

/** What each session option must be (docs/errors.md, "Configuration errors"). */
export const sessionOptionsSchema = {
  idleTimeoutMs: option.positiveNumber,
  maxLifetimeMs: option.positiveNumber,
  maxSessions: option.positiveNumber,
  maxSessionsPerPrincipal: option.positiveNumber,
  maxAnonymousSessions: option.positiveNumber,
  onCap: option.oneOf(['reject', 'evict', 'evict-any']),
  capRetryAfterSeconds: option.positiveNumber,
  touchFraction: option.custom('must be a number from 0 up to (not including) 1', (v) => typeof v === 'number' && v >= 0 && v < 1),
  sweepIntervalMs: option.nonNegativeNumber,
} satisfies OptionsSchema;

export function resolveSessionOptions(options: SessionOptions): ResolvedSessionOptions {
  checkOptions(sessionOptionsSchema, options);
  const idleTimeoutMs = options.idleTimeoutMs ?? 30 * 60_000;
  const maxSessionsPerPrincipal = options.maxSessionsPerPrincipal ?? Infinity;
  return {
    idleTimeoutMs,
    maxLifetimeMs: options.maxLifetimeMs ?? 24 * 3_600_000,
    maxSessions: options.maxSessions ?? Infinity,
    maxSessionsPerPrincipal,
    maxAnonymousSessions: options.maxAnonymousSessions ?? maxSessionsPerPrincipal,
    onCap: options.onCap ?? 'reject',
    capRetryAfterSeconds: options.capRetryAfterSeconds ?? 30,
    touchIntervalMs: idleTimeoutMs * (options.touchFraction ?? 0.1),
    sweepIntervalMs: options.sweepIntervalMs ?? Math.min(idleTimeoutMs / 10, 10_000),
  };
}
