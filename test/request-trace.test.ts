/**
 * A traced request's steps and its trace context in messages (server/request-trace.ts), in
 * process with the OpenTelemetry SDK's in-memory exporter: what becomes a span, and what a
 * message carries on.
 */
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { TracedRequest, W3C_PROPAGATOR } from '../src/gateway/ops/tracing.js';
import { metaCarrier, withTraceMeta } from '../src/server/request-trace.js';

function traced(minStepMs: number): { request: TracedRequest; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test');
  const span = tracer.startSpan('tools/call echo');
  return { request: new TracedRequest(tracer, W3C_PROPAGATOR, span, trace.setSpan(ROOT_CONTEXT, span), minStepMs), exporter };
}

describe('a traced request', () => {
  it('makes a span of a step only when it took at least minStepMs, with its own start and end', () => {
    const { request, exporter } = traced(1);
    const now = performance.now();
    request.step('session lookup', now - 0.4, now);
    request.step('authenticate', now - 3, now - 1);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['authenticate']);
    const [authenticate] = spans;
    const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;
    expect(ms(authenticate!.endTime) - ms(authenticate!.startTime)).toBeCloseTo(2, 1);
    expect(authenticate!.parentSpanContext?.spanId).toBe(request.span.spanContext().spanId);
  });

  it('0 makes a span of every step', () => {
    const { request, exporter } = traced(0);
    const now = performance.now();
    request.step('session lookup', now, now);
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['session lookup']);
  });
});

describe('trace context in a message', () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('reads traceparent, tracestate and baggage from _meta, nothing without a traceparent', () => {
    const request = {
      jsonrpc: '2.0' as const,
      id: 1,
      method: 'tools/call',
      params: { _meta: { traceparent, tracestate: 'a=1', other: 'x' } },
    };
    expect(metaCarrier(request)).toEqual({ traceparent, tracestate: 'a=1' });
    expect(metaCarrier({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { tracestate: 'a=1' } } })).toBeUndefined();
    expect(metaCarrier({ jsonrpc: '2.0', id: 1, result: {} })).toBeUndefined();
  });

  it("puts the gateway's context in place of the client's, keeps the rest of _meta and the original untouched", () => {
    const request = {
      jsonrpc: '2.0' as const,
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', _meta: { traceparent, tracestate: 'client=1', progressToken: 7 } },
    };
    const ours = '00-0af7651916cd43dd8448eb211c80319c-1111111111111111-01';
    const sent = withTraceMeta(request, { traceparent: ours });
    expect(sent.params._meta).toEqual({ traceparent: ours, progressToken: 7 });
    expect(request.params._meta.traceparent).toBe(traceparent);
  });
});
