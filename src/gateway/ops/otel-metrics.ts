/**
 * @module gateway/ops/otel-metrics
 * The gateway's metrics through OpenTelemetry's metrics SDK, beside `/metrics`
 * (docs/OBSERVABILITY.md, "Metrics"): the very instruments `/metrics` serves (metrics.ts,
 * prom-client), read at each export by a metric producer and sent by OTLP, so one pipeline
 * carries traces and metrics and the two views never disagree. Counters become cumulative
 * monotonic sums, gauges gauges, histograms histograms (prom-client's cumulative buckets made
 * per-bucket counts); names, help and labels as `/metrics` has them.
 */
import { type HrTime, ValueType } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  MeterProvider,
  type MetricData,
  type MetricProducer,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import { OptionError } from '../../protocol/options.js';
import { bounded, otlpProtocol, signalUrl } from './otlp-settings.js';

type PromValue = { value: number; labels: Record<string, string | number>; metricName?: string };
type PromMetric = { name: string; help: string; type: string | number; values: PromValue[] };

/** The metrics of a prom-client registry as an OpenTelemetry metric producer, read when collected. */
export class PrometheusProducer implements MetricProducer {
  readonly #registry: Registry;
  readonly #started: HrTime;

  constructor(registry: Registry, started: HrTime = hrTime()) {
    this.#registry = registry;
    this.#started = started;
  }

  async collect(): Promise<CollectionResult> {
    const now = hrTime();
    const metrics = (await this.#registry.getMetricsAsJSON()) as unknown as PromMetric[];
    const data = metrics.map((metric) => this.#converted(metric, now)).filter((metric) => metric !== undefined);
    return {
      resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: 'sessiongate' }, metrics: data }] },
      errors: [],
    };
  }

  #converted(metric: PromMetric, now: HrTime): MetricData | undefined {
    const descriptor = { name: metric.name, description: metric.help, unit: '', valueType: ValueType.DOUBLE };
    const points = (values: PromValue[]) =>
      values.map((value) => ({ startTime: this.#started, endTime: now, attributes: { ...value.labels }, value: value.value }));
    const type = typeof metric.type === 'string' ? metric.type : ['counter', 'gauge', 'histogram', 'summary'][metric.type];
    if (type === 'counter')
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: points(metric.values),
      };
    if (type === 'gauge')
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: points(metric.values),
      };
    if (type === 'histogram')
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: histogramPoints(metric, this.#started, now),
      };
    return undefined; // a summary: the gateway has none
  }
}

/** prom-client's `_bucket` (cumulative, by `le`), `_sum` and `_count` series, one point per label set. */
function histogramPoints(metric: PromMetric, startTime: HrTime, endTime: HrTime) {
  const series = new Map<string, { attributes: Record<string, string | number>; le: [number, number][]; sum: number; count: number }>();
  for (const value of metric.values) {
    const { le, ...attributes } = value.labels;
    const key = JSON.stringify(attributes);
    let point = series.get(key);
    if (!point) series.set(key, (point = { attributes, le: [], sum: 0, count: 0 }));
    if (value.metricName === `${metric.name}_bucket` && le !== undefined)
      point.le.push([le === '+Inf' ? Infinity : Number(le), value.value]);
    else if (value.metricName === `${metric.name}_sum`) point.sum = value.value;
    else if (value.metricName === `${metric.name}_count`) point.count = value.value;
  }
  return [...series.values()].map((point) => {
    const sorted = point.le.sort(([a], [b]) => a - b);
    const boundaries = sorted.filter(([bound]) => bound !== Infinity).map(([bound]) => bound);
    const cumulative = sorted.map(([, count]) => count);
    const counts = cumulative.map((count, index) => count - (index === 0 ? 0 : cumulative[index - 1]!));
    return {
      startTime,
      endTime,
      attributes: point.attributes,
      value: { buckets: { boundaries, counts }, sum: point.sum, count: point.count },
    };
  });
}

export interface OtlpMetricsOptions {
  /** The collector: a base URL (`/v1/metrics` added) or the metrics URL itself. Default: the OTEL_EXPORTER_OTLP_* variables, else `http://localhost:4318`. */
  endpoint?: string;
  /** `http/protobuf` or `http/json`. Default: the OTEL_EXPORTER_OTLP_* variables, else `http/protobuf`. */
  protocol?: 'http/protobuf' | 'http/json';
  /** How often the metrics are sent, ms. Default: `OTEL_METRIC_EXPORT_INTERVAL`, else 60,000. */
  intervalMs?: number;
  /** How long closing waits for the last export, ms. Default 2000. */
  closeTimeoutMs?: number;
}

/** Sends `registry`'s metrics (a `GatewayMetrics`'s) by OTLP until closed. */
export function otlpMetrics(registry: Registry, options: OtlpMetricsOptions = {}): { close(): Promise<void> } {
  const protocol = otlpProtocol('METRICS', options.protocol);
  const url = options.endpoint === undefined ? undefined : signalUrl(options.endpoint, 'metrics');
  const config = url ? { url } : {};
  const exporter: PushMetricExporter = protocol === 'http/json' ? new JsonExporter(config) : new ProtobufExporter(config);
  const intervalMs = options.intervalMs ?? Number(process.env['OTEL_METRIC_EXPORT_INTERVAL'] ?? 60_000);
  if (!Number.isFinite(intervalMs) || intervalMs <= 0)
    throw new OptionError(
      'intervalMs',
      'sessiongate: the OTLP metrics interval (OTEL_METRIC_EXPORT_INTERVAL) must be a positive number of ms',
    );
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: intervalMs,
    exportTimeoutMillis: Math.min(30_000, intervalMs),
    metricProducers: [new PrometheusProducer(registry)],
  });
  const resource = resourceFromAttributes({ 'service.name': 'sessiongate' }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new MeterProvider({ resource, readers: [reader] });
  return { close: () => bounded(provider.shutdown(), options.closeTimeoutMs ?? 2000) };
}
