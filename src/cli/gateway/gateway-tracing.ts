/**
 * @module cli/gateway/gateway-tracing
 * `--otel [URL]` and the standard OpenTelemetry variables
 * (docs/OBSERVABILITY.md, "Turning it on"): tracing is on with the flag, or when `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set; `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none` turn it off whatever else says on (as the SDK's own
 * configuration reads them). Off, nothing of it is built.
 */
import { otlpTracing } from '../../gateway/ops/otlp-tracing.js';
import type { TracingOptions } from '../../gateway/ops/tracing.js';
import type { GatewayFlags } from './gateway-flags.js';

/** Whether the gateway traces (read with the flags: the upstreams mirror trace headers then). */
export function tracingWanted(otel: GatewayFlags['otel'], env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  if (exportersNamed(env)?.includes('none')) return false;
  return otel !== undefined || Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT']) || Boolean(env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

function exportersNamed(env: NodeJS.ProcessEnv): string[] | undefined {
  return env['OTEL_TRACES_EXPORTER']?.split(',').map((name) => name.trim().toLowerCase());
}

/** The gateway's tracing as the flags and variables describe it, with a line for the start-up summary. */
export function gatewayTracing(
  flags: Pick<GatewayFlags, 'otel' | 'otelPrincipalClaim' | 'otelTraceLink' | 'traced'>,
): { tracing: TracingOptions; line: string } | undefined {
  if (!flags.traced) return undefined;
  if (exportersNamed(process.env)?.some((name) => name !== 'otlp' && name !== ''))
    throw new Error(
      `OTEL_TRACES_EXPORTER="${process.env['OTEL_TRACES_EXPORTER']}": this gateway exports traces by OTLP only (otlp or none)`,
    );
  const endpoint = typeof flags.otel === 'string' ? flags.otel : undefined;
  const link = flags.otelTraceLink;
  if (link !== undefined && !/^https?:\/\/\S*\{traceId\}/.test(link))
    throw new Error(`--otel-trace-link "${link}" must be an http(s) URL with {traceId} in it`);
  const tracing: TracingOptions = {
    ...otlpTracing({
      ...(endpoint !== undefined && { endpoint }),
      ...(flags.otelPrincipalClaim !== undefined && { principalClaim: flags.otelPrincipalClaim }),
    }),
    ...(link !== undefined && { traceLink: link }),
  };
  const where =
    endpoint ?? process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ?? process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? 'http://localhost:4318';
  return { tracing, line: `  traces: OpenTelemetry, OTLP to ${shown(where)}` };
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
