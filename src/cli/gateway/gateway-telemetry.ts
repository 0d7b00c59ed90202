/**
 * @module cli/gateway/gateway-telemetry
 * `--otel [URL]` and the standard OpenTelemetry variables
 * (docs/OBSERVABILITY.md, "Turning it on"): traces and metrics are sent by OTLP with the flag,
 * or when `OTEL_EXPORTER_OTLP_ENDPOINT` (both), `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (traces) or
 * `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (metrics) is set; `OTEL_SDK_DISABLED=true` turns both
 * off, `OTEL_TRACES_EXPORTER=none` / `OTEL_METRICS_EXPORTER=none` one of them, whatever else
 * says on (as the SDK's own configuration reads them). Off, nothing of it is built.
 */
import type { Registry } from 'prom-client';
import type { GatewayTracing } from '../../gateway/ops/tracing.js';
import type { GatewayFlags } from './gateway-flags.js';

/** Whether the gateway sends `signal` by OTLP (read with the flags: the upstreams mirror trace headers then). */
export function otlpWanted(signal: 'TRACES' | 'METRICS', otel: GatewayFlags['otel'], env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  // `prometheus` for metrics: /metrics serves them already.
  if (exportersNamed(signal, env)?.some((name) => name === 'none' || name === 'prometheus')) return false;
  return otel !== undefined || Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT']) || Boolean(env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]);
}

function exportersNamed(signal: 'TRACES' | 'METRICS', env: NodeJS.ProcessEnv): string[] | undefined {
  return env[`OTEL_${signal}_EXPORTER`]?.split(',').map((name) => name.trim().toLowerCase());
}

/** Refuses an exporter of `signal` other than OTLP (or none) in one line. */
function onlyOtlp(signal: 'TRACES' | 'METRICS'): void {
  if (exportersNamed(signal, process.env)?.some((name) => name !== 'otlp' && name !== ''))
    throw new Error(
      `OTEL_${signal}_EXPORTER="${process.env[`OTEL_${signal}_EXPORTER`]}": this gateway exports by OTLP only (otlp or none)`,
    );
}

/** The gateway's tracing as the flags and variables describe it, with a line for the start-up summary. */
export async function gatewayTracing(
  flags: Pick<GatewayFlags, 'otel' | 'otelPrincipalClaim' | 'otelTraceLink' | 'otelMinStepMs' | 'traced'>,
): Promise<{ tracing: GatewayTracing; line: string } | undefined> {
  if (!flags.traced) return undefined;
  onlyOtlp('TRACES');
  const endpoint = typeof flags.otel === 'string' ? flags.otel : undefined;
  const link = flags.otelTraceLink;
  if (link !== undefined && !/^https?:\/\/\S*\{traceId\}/.test(link))
    throw new Error(`--otel-trace-link "${link}" must be an http(s) URL with {traceId} in it`);
  // Loaded only now: the OpenTelemetry SDK is a second of a start's CPU that a gateway not tracing never pays.
  const { otlpTracing } = await import('../../gateway/ops/otlp-tracing.js');
  const tracing = otlpTracing({
    ...(endpoint !== undefined && { endpoint }),
    ...(flags.otelPrincipalClaim !== undefined && { principalClaim: flags.otelPrincipalClaim }),
    ...(link !== undefined && { traceLink: link }),
    minStepMs: flags.otelMinStepMs,
  });
  const where =
    endpoint ?? process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? 'http://localhost:4318';
  return { tracing, line: `  traces: OpenTelemetry, OTLP to ${shown(where)}` };
}

/** The gateway's metrics sent by OTLP beside /metrics, as the flags and variables describe it, with a line for the summary. */
export async function gatewayOtelMetrics(
  flags: Pick<GatewayFlags, 'otel' | 'metered'>,
  registry: Registry,
): Promise<{ close(): Promise<void>; line: string } | undefined> {
  if (!flags.metered) return undefined;
  onlyOtlp('METRICS');
  const endpoint = typeof flags.otel === 'string' ? flags.otel : undefined;
  const { otlpMetrics } = await import('../../gateway/ops/otel-metrics.js');
  const sending = otlpMetrics(registry, endpoint === undefined ? {} : { endpoint });
  const where =
    endpoint ?? process.env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] ?? process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? 'http://localhost:4318';
  return { close: () => sending.close(), line: `  metrics by OTLP: to ${shown(where)} as well` };
}

/** A collector's URL as a summary may print it: no user or password in it. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin + parsed.pathname;
  } catch {
    return 'an invalid URL';
  }
}
