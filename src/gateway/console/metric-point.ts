/**
 * @module gateway/console/metric-point
 * One point of the console's charts (metric-history.ts), as the server sends it and the page
 * draws it: the page imports this file's type, so it depends on nothing of Node.
 */
export interface MetricPoint {
  /** ms since the epoch. */
  at: number;
  requestsPerSecond: number;
  errorsPerSecond: number;
  /** Seconds; null when nothing was answered in the interval. */
  p50: number | null;
  p99: number | null;
  liveSessions: number;
}
