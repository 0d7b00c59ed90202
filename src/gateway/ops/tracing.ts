/**
 * @module gateway/ops/tracing
 * The tracing stage (docs/OBSERVABILITY.md, "Traces"): a SERVER span per MCP request (not per
 * HTTP request: a batch or a stream carries several), its parent the trace context the client
 * sent in the message's `params._meta` (SEP-414) or else in the HTTP headers; left on the
 * request (server/request-trace.ts) for the spans inside (policy, approvals, upstream
 * exchanges); ended with the answer. A server's messages in the call's stream (progress,
 * sampling, elicitation) carry the trace on to the client. Composed only when tracing is on
 * (create-gateway.ts), so with it off a request pays nothing.
 */
import { type Context, ROOT_CONTEXT, SpanKind, type TextMapGetter, type TextMapPropagator, trace, type Tracer } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { JsonRpcMessage, JsonRpcRequest } from '../../protocol/jsonrpc.js';
import { isResponse } from '../../protocol/jsonrpc.js';
import { isStreamReply, type RequestContext, type RequestTimings } from '../../server/application.js';
import { metaCarrier, REQUEST_TRACE, RequestTrace, type TraceCarrier, withTraceMeta } from '../../server/request-trace.js';
import type { Stage } from '../../server/stage.js';
import { watched } from '../../server/watched-stream.js';
import { endWith, endWithException, requestAttributes, spanName } from './mcp-spans.js';

export interface TracingOptions {
  /** The tracer spans are made with. Default: the `sessiongate` tracer of the global provider (`@opentelemetry/api`). */
  tracer?: Tracer;
  /** How trace context is read and written. Default: W3C trace context and baggage. */
  propagator?: TextMapPropagator;
  /** A claim of the verified caller recorded as `enduser.id`. Default: none (a span never names the caller). */
  principalClaim?: string;
  /**
   * A trace viewer's URL with `{traceId}` in it (Jaeger: `https://jaeger.example/trace/{traceId}`):
   * the console links each call of a session to its trace there. Default: none (the id is shown).
   */
  traceLink?: string;
  /** Called when the gateway closes, after the server (e.g. flushes and stops the exporter). */
  close?(): Promise<void>;
}

/** W3C `traceparent` + `tracestate`, and `baggage`: what SEP-414 names. */
export const W3C_PROPAGATOR: TextMapPropagator = new CompositePropagator({
  propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
});

const fromCarrier: TextMapGetter<TraceCarrier> = {
  get: (carrier, key) => carrier[key],
  keys: (carrier) => Object.keys(carrier),
};

const fromHeaders: TextMapGetter<RequestContext> = {
  get: (context, key) => context.header(key),
  keys: (context) => Object.keys(context.headers()),
};

export function tracingStage(options: TracingOptions = {}): Stage {
  const tracer = options.tracer ?? trace.getTracer('sessiongate');
  const propagator = options.propagator ?? W3C_PROPAGATOR;
  const claim = options.principalClaim;

  const start = (name: string, request: JsonRpcRequest | undefined, context: RequestContext): RequestTrace => {
    const parent = parentOf(propagator, request, context);
    const attributes = request ? requestAttributes(request, context) : {};
    const person = claim === undefined ? undefined : context.identity?.claims[claim];
    if (typeof person === 'string' || typeof person === 'number') attributes['enduser.id'] = String(person);
    // The server's own work for the request (who is calling, its session) is inside its span.
    const timings = context.timings;
    const startTime = timings?.authenticated?.[0] ?? timings?.sessionFound?.[0];
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, ...(startTime !== undefined && { startTime }) }, parent);
    const traced = new RequestTrace(tracer, propagator, span, trace.setSpan(parent, span));
    if (timings) spansOfTimings(traced, timings);
    context.set(REQUEST_TRACE, traced);
    return traced;
  };

  return {
    name: 'tracing',
    async handle(request, context, next) {
      const traced = start(spanName(request), request, context);
      let reply;
      try {
        reply = await next(request, context);
      } catch (error) {
        endWithException(traced.span, error);
        throw error;
      }
      if (!isStreamReply(reply)) {
        endWith(traced.span, reply);
        return reply;
      }
      return followed(reply, traced);
    },
    adopt(call, context, next) {
      // A call picked up after a crash: its first span's parent died with that process.
      const traced = start('resume', undefined, context);
      traced.span.setAttribute('jsonrpc.request.id', String(call.requestId));
      const rest = next(call, context);
      if (!rest) {
        traced.span.end();
        return undefined;
      }
      return followed(rest, traced);
    },
  };
}

/** `authenticate` and `session lookup` spans, from when the server ran them (before this stage). */
function spansOfTimings(traced: RequestTrace, timings: RequestTimings): void {
  for (const [name, interval] of [
    ['authenticate', timings.authenticated],
    ['session lookup', timings.sessionFound],
  ] as const) {
    if (interval) traced.tracer.startSpan(name, { startTime: interval[0] }, traced.context).end(interval[1]);
  }
}

/** The client's trace context: the message's own (`_meta`), else the HTTP request's headers. */
function parentOf(propagator: TextMapPropagator, request: JsonRpcRequest | undefined, context: RequestContext): Context {
  const meta = request && metaCarrier(request);
  if (meta) return propagator.extract(ROOT_CONTEXT, meta, fromCarrier);
  return context.header('traceparent') === undefined && context.header('baggage') === undefined
    ? ROOT_CONTEXT
    : propagator.extract(ROOT_CONTEXT, context, fromHeaders);
}

/**
 * A stream passed through: the span ends with its response (or its end without one); the
 * server's messages to the client carry the trace.
 */
function followed(messages: AsyncIterable<JsonRpcMessage>, traced: RequestTrace): AsyncIterable<JsonRpcMessage> {
  let answered = false;
  let carrier: TraceCarrier | undefined;
  return watched(
    messages,
    () => {
      if (!answered) endWith(traced.span, undefined);
    },
    (message) => {
      if (isResponse(message)) {
        // At the response, not when the stream is closed: a span inside ends at it too, so never after its parent.
        answered = true;
        endWith(traced.span, message);
        return undefined;
      }
      // The upstream's own trace context (its span is inside ours) is kept; otherwise ours.
      if (metaCarrier(message)) return undefined;
      return withTraceMeta(message, (carrier ??= traced.carrier()));
    },
  );
}
