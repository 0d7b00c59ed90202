/**
 * @module gateway/ops/otlp-tracing
 * Tracing exported by OTLP over HTTP with the OpenTelemetry SDK (docs/OBSERVABILITY.md,
 * "Turning it on"): what `sessiongate --otel` runs, for a gateway of one's own. The standard
 * variables are read as the OpenTelemetry SDK documents them: `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (a base: `/v1/traces` is added) or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (as is),
 * `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` (`http/protobuf`, the default, or `http/json`),
 * `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_TRACES_SAMPLER` / `_ARG` and `OTEL_BSP_*`. Spans leave in batches from a bounded queue
 * (2048 by default; past it they are dropped), so a collector that is slow or gone costs a
 * caller nothing.
 */
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { bounded, otlpProtocol, signalUrl } from './otlp-settings.js';
import { type GatewayTracing, tracing } from './tracing.js';

export interface OtlpTracingOptions {
  /**
   * The collector: a base URL (`http://collector:4318`, `/v1/traces` added) or the traces URL
   * itself (ending in `/v1/traces`). Default: the OTEL_EXPORTER_OTLP_* variables, else
   * `http://localhost:4318`.
   */
  endpoint?: string;
  /** `http/protobuf` or `http/json`. Default: the OTEL_EXPORTER_OTLP_* variables, else `http/protobuf`. */
  protocol?: 'http/protobuf' | 'http/json';
  /** A claim of the verified caller recorded as `enduser.id`. Default: none. */
  principalClaim?: string;
  /** How long closing waits for the last spans to leave, ms. Default 2000. */
  closeTimeoutMs?: number;
  /** The shortest step that gets a span, ms (`TracingOptions.minStepMs`). Default 1. */
  minStepMs?: number;
  /** A trace viewer's URL with `{traceId}` (`TracingOptions.traceLink`). Default: none. */
  traceLink?: string;
}

/** The gateway's tracing (`createGateway`'s `tracing`): spans to an OTLP collector, closed with the gateway. */
export function otlpTracing(options: OtlpTracingOptions = {}): GatewayTracing {
  const protocol = otlpProtocol('TRACES', options.protocol);
  const url = options.endpoint === undefined ? undefined : signalUrl(options.endpoint, 'traces');
  const exporter: SpanExporter = protocol === 'http/json' ? new JsonExporter(url ? { url } : {}) : new ProtobufExporter(url ? { url } : {});
  // The gateway's name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise (later wins).
  const resource = resourceFromAttributes({ 'service.name': 'sessiongate' }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  const closeTimeoutMs = options.closeTimeoutMs ?? 2000;
  return tracing({
    tracer: provider.getTracer('sessiongate'),
    ...(options.principalClaim !== undefined && { principalClaim: options.principalClaim }),
    ...(options.minStepMs !== undefined && { minStepMs: options.minStepMs }),
    ...(options.traceLink !== undefined && { traceLink: options.traceLink }),
    close: () => bounded(provider.shutdown(), closeTimeoutMs),
  });
}
