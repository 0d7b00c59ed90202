// Benchmark: the floor under bench/tracing.bench.js, what the OpenTelemetry JS SDK itself costs
// for the spans one traced tools/call makes through the gateway (a SERVER span with the
// request's attributes, a CLIENT span with the exchange's), created, ended and exported by the
// same BatchSpanProcessor and OTLP http/protobuf exporter `--otel` runs, to a collector that
// takes every export. In this process, paced like the equal-load phase (2,000 requests/s);
// CPU per request, median of rounds. Also one span per request (no exchange span).
//
//   node bench/otel-sdk.bench.js    (ROUNDS=5)
import { createServer } from 'node:http';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { machine, median, publish, settings } from './harness.js';

const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200).end());
});
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
const provider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${sink.address().port}/v1/traces` }))],
});
const tracer = provider.getTracer('sessiongate');
const REQUESTS = 20_000;

async function round(spans) {
  const before = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i++) {
    const request = tracer.startSpan(
      'tools/call echo',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'mcp.method.name': 'tools/call',
          'jsonrpc.request.id': String(i),
          'mcp.protocol.version': '2025-11-25',
          'mcp.session.id': '0badcafe',
          'gen_ai.tool.name': 'echo',
          'gen_ai.operation.name': 'execute_tool',
        },
      },
      ROOT_CONTEXT,
    );
    if (spans === 2)
      tracer
        .startSpan(
          'tools/call echo',
          { kind: SpanKind.CLIENT, attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'echo' } },
          trace.setSpan(ROOT_CONTEXT, request),
        )
        .end();
    request.end();
    // 2,000 requests/s: 20 every 10 ms, the exporter's work in between.
    if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await provider.forceFlush();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / REQUESTS;
}

const samples = { 2: [], 1: [] };
await round(2); // warm-up
for (let n = 0; n < settings.rounds; n++) for (const spans of [2, 1]) samples[spans].push(await round(spans));
await provider.shutdown();
sink.close();
publish('otel-sdk.md', [
  machine(),
  `The OpenTelemetry SDK alone (sdk-trace-base BatchSpanProcessor, exporter-trace-otlp-proto), ${REQUESTS} requests per round at 2,000/s, ${settings.rounds} rounds, median CPU per request:`,
  '',
  `- two spans (the request's and its exchange's, as the gateway makes them): ${median(samples[2]).toFixed(1)} µs`,
  `- one span: ${median(samples[1]).toFixed(1)} µs`,
]);
