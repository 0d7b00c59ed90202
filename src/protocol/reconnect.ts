/**
 * @module protocol/reconnect
 * The wait before reopening a long-lived stream that failed: doubling with each failure in a
 * row, capped, so an upstream that is down is not hammered and one that is back is reached soon.
 */
import { setTimeout as delay } from 'node:timers/promises';

/** The longest wait between two attempts, ms. */
export const MAX_RECONNECT_MS = 30_000;

/**
 * The wait after `failures` failures in a row: `baseMs` itself after none (a server's SSE `retry`
 * is honoured as given), else `baseMs` doubled that many times, at most 30 s.
 */
export function reconnectDelay(baseMs: number, failures: number): number {
  return failures === 0 ? baseMs : Math.min(baseMs * 2 ** failures, MAX_RECONNECT_MS);
}

/** Waits `ms`, or less when `signal` aborts (then resolves too: the caller's loop checks the signal). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => {});
}
