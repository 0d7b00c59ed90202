/**
 * @module gateway/ops/otlp-settings
 * What OTLP traces and metrics share (docs/OBSERVABILITY.md, "Turning it on"): the protocol
 * as the OpenTelemetry variables give it (per signal, then for all), a collector's base URL
 * made the signal's URL, and a stop that waits for the last export a bounded time.
 */
import { OptionError } from '../../protocol/options.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** `given`, else `OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else http/protobuf; grpc is refused. */
export function otlpProtocol(signal: 'TRACES' | 'METRICS', given?: string): OtlpProtocol {
  const env = process.env;
  const protocol = given ?? env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json')
    throw new OptionError('protocol', `sessiongate: OTLP protocol "${protocol}" is not supported here: use http/protobuf or http/json`);
  return protocol;
}

/** The signal's URL of `endpoint`: as given when it names `/v1/<signal>`, else that path under it. */
export function signalUrl(endpoint: string, signal: 'traces' | 'metrics'): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new OptionError('endpoint', `sessiongate: the OTLP endpoint "${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OptionError('endpoint', `sessiongate: the OTLP endpoint "${endpoint}" must be http(s)`);
  if (url.pathname.endsWith(`/v1/${signal}`)) return url.href;
  url.pathname = `${url.pathname.replace(/\/$/, '')}/v1/${signal}`;
  return url.href;
}

/** `work`, or its end unawaited after `ms` (a collector that does not answer never holds a stop). */
export async function bounded(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()));
  try {
    await Promise.race([work.catch(() => {}), late]);
  } finally {
    clearTimeout(timer);
  }
}
