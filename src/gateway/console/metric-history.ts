/**
 * @module gateway/console/metric-history
 * The console's charts over the last hour (docs/CONSOLE.md, "Views"), drawn from the gateway's
 * own Prometheus metrics: every SAMPLE_MS the registry is read (not the request path) and the
 * change since the last look becomes one point: requests per second, errors per second, p50 and
 * p99 latency (from the duration histogram's buckets: a bucket's upper bound, as Prometheus's
 * histogram_quantile would without interpolation) and live sessions.
 */
import type { Registry } from 'prom-client';
import type { MetricPoint } from './metric-point.js';

export type { MetricPoint };

export const SAMPLE_MS = 10_000;
const POINTS = (60 * 60 * 1000) / SAMPLE_MS;

interface Totals {
  requests: number;
  errors: number;
  /** Cumulative count per bucket bound (seconds), summed over methods. */
  buckets: Map<number, number>;
}

export class MetricHistory {
  readonly #registry: Registry;
  readonly #points: MetricPoint[] = [];
  #last: Totals | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #watchers = new Set<(point: MetricPoint) => void>();

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  /** Samples every SAMPLE_MS until `stop` (the timer never keeps the process alive). */
  start(): void {
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), SAMPLE_MS).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  get points(): readonly MetricPoint[] {
    return this.#points;
  }

  /** `watcher` is told of each new point until the returned function is called. */
  watch(watcher: (point: MetricPoint) => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  async sample(now = Date.now()): Promise<void> {
    const totals = await this.#totals();
    const live = await this.#gauge('sessiongate_sessions_live');
    const last = this.#last;
    this.#last = totals;
    if (!last) return;
    const seconds = SAMPLE_MS / 1000;
    const deltas = [...totals.buckets].map(([bound, count]) => [bound, count - (last.buckets.get(bound) ?? 0)] as const);
    const point: MetricPoint = {
      at: now,
      requestsPerSecond: (totals.requests - last.requests) / seconds,
      errorsPerSecond: (totals.errors - last.errors) / seconds,
      p50: quantile(deltas, 0.5),
      p99: quantile(deltas, 0.99),
      liveSessions: live,
    };
    this.#points.push(point);
    if (this.#points.length > POINTS) this.#points.shift();
    for (const watcher of this.#watchers) watcher(point);
  }

  async #totals(): Promise<Totals> {
    const metrics = await this.#registry.getMetricsAsJSON();
    const totals: Totals = { requests: 0, errors: 0, buckets: new Map() };
    for (const metric of metrics) {
      if (metric.name === 'sessiongate_requests_total') {
        for (const value of metric.values) {
          totals.requests += value.value;
          if (value.labels['outcome'] === 'error') totals.errors += value.value;
        }
      } else if (metric.name === 'sessiongate_request_duration_seconds') {
        for (const value of metric.values) {
          if ((value as { metricName?: string }).metricName !== 'sessiongate_request_duration_seconds_bucket') continue;
          const bound = value.labels['le'] === '+Inf' ? Infinity : Number(value.labels['le']);
          totals.buckets.set(bound, (totals.buckets.get(bound) ?? 0) + value.value);
        }
      }
    }
    return totals;
  }

  async #gauge(name: string): Promise<number> {
    const metric = this.#registry.getSingleMetric(name);
    const value = metric ? (await metric.get()).values[0]?.value : undefined;
    return value ?? 0;
  }
}

/** The smallest bucket bound holding the `q` quantile of the interval's answers; null when none. */
function quantile(cumulative: readonly (readonly [number, number])[], q: number): number | null {
  const sorted = [...cumulative].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const bound = sorted.find(([, count]) => count >= q * total)?.[0];
  return bound === undefined || !Number.isFinite(bound) ? (sorted.at(-2)?.[0] ?? null) : bound;
}
