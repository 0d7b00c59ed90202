/**
 * An OTLP/HTTP traces receiver on loopback, as a collector is to an exporter: it takes what the
 * real OpenTelemetry exporters POST to /v1/traces (`http/json`) and decodes every span with its
 * service. A test waits on a condition over what arrived, never on time.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** 1 internal, 2 server, 3 client (OTLP's SpanKind). */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; attributes: Record<string, string | number | boolean> }[];
  status: number;
}

/** One data point of a metric as an export carried it (the latest export's last). */
export interface ReceivedPoint {
  name: string;
  kind: 'sum' | 'gauge' | 'histogram';
  attributes: Record<string, string | number | boolean>;
  /** A sum's or gauge's value; a histogram's count. */
  value: number;
  /** A histogram's per-bucket counts and their bounds. */
  buckets?: { bounds: number[]; counts: number[]; sum: number };
}

export interface OtlpReceiver {
  /** The base URL an exporter is given (OTEL_EXPORTER_OTLP_ENDPOINT). */
  url: string;
  spans: ReceivedSpan[];
  /** Every metric point of every metrics export, in order. */
  points: ReceivedPoint[];
  /** How many export requests came in and their content types. */
  posts: string[];
  /** The spans once `test` holds over them (checked at each export), or a failure naming what did arrive. */
  until(test: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const posts: string[] = [];
  const points: ReceivedPoint[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await text(req);
      posts.push(String(req.headers['content-type']));
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) spans.push(...decode(body));
      if (req.url === '/v1/metrics' && req.headers['content-type']?.startsWith('application/json')) points.push(...decodeMetrics(body));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      for (const wake of [...waiters]) wake();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    spans,
    points,
    posts,
    until: (test, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!test(spans)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(spans);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`spans never matched; received: ${spans.map((span) => `${span.service}:${span.name}`).join(', ')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function decode(body: string): ReceivedSpan[] {
  const request = JSON.parse(body) as {
    resourceSpans: {
      resource: { attributes: OtlpAttribute[] };
      scopeSpans: {
        spans: {
          traceId: string;
          spanId: string;
          parentSpanId?: string;
          name: string;
          kind: number;
          attributes?: OtlpAttribute[];
          events?: { name: string; attributes?: OtlpAttribute[] }[];
          status?: { code?: number };
        }[];
      }[];
    }[];
  };
  const found: ReceivedSpan[] = [];
  for (const resource of request.resourceSpans) {
    const service = String(attributes(resource.resource.attributes)['service.name']);
    for (const scope of resource.scopeSpans)
      for (const span of scope.spans)
        found.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || undefined,
          name: span.name,
          kind: span.kind,
          attributes: attributes(span.attributes ?? []),
          events: (span.events ?? []).map((event) => ({ name: event.name, attributes: attributes(event.attributes ?? []) })),
          status: span.status?.code ?? 0,
        });
  }
  return found;
}

interface OtlpPoint {
  attributes?: OtlpAttribute[];
  asDouble?: number;
  asInt?: string | number;
  count?: string | number;
  sum?: number;
  bucketCounts?: (string | number)[];
  explicitBounds?: number[];
}

function decodeMetrics(body: string): ReceivedPoint[] {
  const request = JSON.parse(body) as {
    resourceMetrics: {
      scopeMetrics: {
        metrics: {
          name: string;
          sum?: { dataPoints: OtlpPoint[] };
          gauge?: { dataPoints: OtlpPoint[] };
          histogram?: { dataPoints: OtlpPoint[] };
        }[];
      }[];
    }[];
  };
  const found: ReceivedPoint[] = [];
  for (const resource of request.resourceMetrics)
    for (const scope of resource.scopeMetrics)
      for (const metric of scope.metrics)
        for (const kind of ['sum', 'gauge', 'histogram'] as const)
          for (const point of metric[kind]?.dataPoints ?? [])
            found.push({
              name: metric.name,
              kind,
              attributes: attributes(point.attributes ?? []),
              value: kind === 'histogram' ? Number(point.count) : (point.asDouble ?? Number(point.asInt)),
              ...(kind === 'histogram' && {
                buckets: { bounds: point.explicitBounds ?? [], counts: (point.bucketCounts ?? []).map(Number), sum: point.sum ?? 0 },
              }),
            });
  return found;
}

function attributes(list: OtlpAttribute[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list)
    out[key] = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue === undefined ? '' : Number(value.intValue));
  return out;
}

async function text(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}
