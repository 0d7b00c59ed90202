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
import {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { JsonRpcMessage, JsonRpcRequest } from '../../protocol/jsonrpc.js';
import type { RequestContext, RequestTimings } from '../../server/application.js';
import { metaCarrier, REQUEST_TRACE, type RequestTrace, type TraceCarrier, withTraceMeta } from '../../server/request-trace.js';
import type { Stage } from '../../server/stage.js';
import type { McpApplication } from '../../server/application.js';
import { OptionError } from '../../protocol/options.js';
import { tracedUpstream } from './upstream-spans.js';
import { called, requestAttributes, spanName, spanOver, spanOverStream } from './mcp-spans.js';

export interface TracingOptions {
  /** The tracer spans are made with. Default: the `sessiongate` tracer of the global provider (`@opentelemetry/api`). */
  tracer?: Tracer;
  /** How trace context is read and written. Default: W3C trace context and baggage. */
  propagator?: TextMapPropagator;
  /** A claim of the verified caller recorded as `enduser.id`. Default: none (a span never names the caller). */
  principalClaim?: string;
  /**
   * The server's own steps (authenticate, session lookup) and waits for an upstream's turn get a
   * span when they took at least this long, ms; 0: every one. Default 1.
   */
  minStepMs?: number;
  /**
   * A trace viewer's URL with `{traceId}` in it (Jaeger: `https://jaeger.example/trace/{traceId}`):
   * the console links each call of a session to its trace there. Default: none (the id is shown).
   */
  traceLink?: string;
  /** Called when the gateway closes, after the server (e.g. flushes and stops the exporter). */
  close?(): Promise<void>;
}

/**
 * What `createGateway` composes when it traces (its `tracing` option): the tracing stage and a
 * wrapper giving an upstream's exchanges spans. Made by `tracing(options)` or `otlpTracing`, so
 * a gateway that does not trace never loads OpenTelemetry (create-gateway.ts imports this type only).
 */
export interface GatewayTracing {
  readonly stage: Stage;
  /** `application` (one server's upstream) with a span per exchange; `server`: its name in a federation. */
  upstream(application: McpApplication, server?: string): McpApplication;
  readonly traceLink?: string | undefined;
  close?(): Promise<void>;
}

/** The gateway's tracing from its options. */
export function tracing(options: TracingOptions = {}): GatewayTracing {
  const minStep = options.minStepMs;
  if (minStep !== undefined && !(typeof minStep === 'number' && minStep >= 0 && Number.isFinite(minStep)))
    throw new OptionError('tracing', 'sessiongate: option "tracing.minStepMs" must be a non-negative number of ms');
  const link = options.traceLink;
  if (link !== undefined && !(typeof link === 'string' && /^https?:\/\/\S*\{traceId\}/.test(link)))
    throw new OptionError('tracing', 'sessiongate: option "tracing.traceLink" must be an http(s) URL with {traceId} in it');
  return {
    stage: tracingStage(options),
    upstream: tracedUpstream,
    ...(options.traceLink !== undefined && { traceLink: options.traceLink }),
    ...(options.close && { close: options.close.bind(options) }),
  };
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
  const minStepMs = options.minStepMs ?? 1;

  const start = (name: string, request: JsonRpcRequest | undefined, context: RequestContext): RequestTrace => {
    const parent = parentOf(propagator, request, context);
    const attributes = request ? requestAttributes(request, context) : {};
    const person = claim === undefined ? undefined : context.identity?.claims[claim];
    if (typeof person === 'string' || typeof person === 'number') attributes['enduser.id'] = String(person);
    // The server's own work for the request (who is calling, its session) is inside its span.
    const timings = context.timings;
    const startTime = timings?.authenticated?.[0] ?? timings?.sessionFound?.[0];
    const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, ...(startTime !== undefined && { startTime }) }, parent);
    const traced = new TracedRequest(tracer, propagator, span, trace.setSpan(parent, span), minStepMs);
    if (timings) stepsOf(traced, timings);
    context.set(REQUEST_TRACE, traced);
    return traced;
  };

  return {
    name: 'tracing',
    handle(request, context, next) {
      const traced = start(spanName(request), request, context);
      let carrier: TraceCarrier | undefined;
      // The upstream's own trace context in a message to the client is kept (its span is inside ours); else ours.
      const carry = (message: JsonRpcMessage): JsonRpcMessage | undefined =>
        metaCarrier(message) ? undefined : withTraceMeta(message, (carrier ??= traced.carrier()));
      return spanOver(
        traced.span,
        called(() => next(request, context)),
        carry,
      );
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
      return spanOverStream(traced.span, rest);
    },
  };
}

/** The `authenticate` and `session lookup` steps, as the server ran them (before this stage). */
function stepsOf(traced: RequestTrace, timings: RequestTimings): void {
  if (timings.authenticated) traced.step('authenticate', ...timings.authenticated);
  if (timings.sessionFound) traced.step('session lookup', ...timings.sessionFound);
}

/** The client's trace context: the message's own (`_meta`), else the HTTP request's headers. */
function parentOf(propagator: TextMapPropagator, request: JsonRpcRequest | undefined, context: RequestContext): Context {
  const meta = request && metaCarrier(request);
  if (meta) return propagator.extract(ROOT_CONTEXT, meta, fromCarrier);
  return context.header('traceparent') === undefined && context.header('baggage') === undefined
    ? ROOT_CONTEXT
    : propagator.extract(ROOT_CONTEXT, context, fromHeaders);
}

/** The traced request the stage leaves on the context (server/request-trace.ts). */
export class TracedRequest implements RequestTrace {
  constructor(
    readonly tracer: Tracer,
    readonly propagator: TextMapPropagator,
    /** The gateway's span for the request (kind SERVER). */
    readonly span: Span,
    /** The OpenTelemetry context with that span in it: the parent of every child span. */
    readonly context: Context,
    /** A step (authentication, a look-up, a wait) shorter than this, ms, gets no span of its own. */
    readonly minStepMs = 0,
  ) {}

  /**
   * A step that ran from `start` to `end` (`performance.now()`), as a span under the request's
   * when it took at least `minStepMs`: a span costs the gateway more than a fast step does, and
   * the ones worth reading are the slow ones (docs/OBSERVABILITY.md, "What a request's trace holds").
   */
  step(name: string, start: number, end: number, attributes?: Attributes): void {
    if (end - start < this.minStepMs) return;
    this.tracer.startSpan(name, { startTime: start, ...(attributes && { attributes }) }, this.context).end(end);
  }

  /** A span under the request's (kind INTERNAL unless told), started now; its owner ends it. */
  child(name: string, attributes?: Attributes, kind: SpanKind = SpanKind.INTERNAL): Span {
    return this.tracer.startSpan(name, { kind, ...(attributes && { attributes }) }, this.context);
  }

  /** The trace context naming `span` (or the request's own) as the parent: traceparent, tracestate, baggage. */
  carrier(span: Span = this.span): TraceCarrier {
    const carrier: TraceCarrier = {};
    this.propagator.inject(trace.setSpan(this.context, span), carrier, INTO_CARRIER);
    return carrier;
  }

  /** The trace id, for an audit line and the console (docs/OBSERVABILITY.md, "How they join"). */
  get traceId(): string {
    return this.span.spanContext().traceId;
  }
}

const INTO_CARRIER: TextMapSetter<TraceCarrier> = { set: (carrier, key, value) => (carrier[key] = value) };
