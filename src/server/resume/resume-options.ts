/**
 * @module server/resume/resume-options
 * How long and how much of a stream is kept for resumption (docs/RESUMPTION.md).
 */

export interface ResumeOptions {
  /** ms a stream's events are kept after its last event or its end. Default 300,000 (5 minutes). */
  windowMs?: number;
  /** Events kept per stream (the oldest go first). Default 1000. */
  maxEvents?: number;
  /** The `retry` (ms) sent to clients of 2025-11-25 and later. Default 1000. */
  retryMs?: number;
}

export type ResumeSettings = Required<ResumeOptions>;

export const DEFAULT_RESUME: ResumeSettings = { windowMs: 300_000, maxEvents: 1000, retryMs: 1000 };
