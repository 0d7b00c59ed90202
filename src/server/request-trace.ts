/**
 * @module server/request-trace
 * A traced request's place in its trace (docs/OBSERVABILITY.md, "Traces"): the gateway's span
 * for the request, left on its context by the tracing stage (gateway/ops/tracing.ts) so the
 * stages and upstreams inside it add child spans (the policy, an approval wait, an upstream
 * exchange) and pass the trace on. With tracing off nothing is left, and every part asks one
 * `context.get` and does nothing more: the request path pays for what is switched on only
 * (docs/ARCHITECTURE.md, "Stages").
 */
import type { Attributes, Span, SpanKind } from '@opentelemetry/api';
import { isObject, type JsonRpcMessage } from '../protocol/jsonrpc.js';
import type { RequestContext } from './application.js';
import { RequestKey } from './request-key.js';

/** The W3C trace context fields, as they travel in `params._meta` (SEP-414) and in HTTP headers. */
export type TraceCarrier = Record<string, string>;

/**
 * A traced request, as the parts inside the tracing stage see it (made by
 * gateway/ops/tracing.ts; only types of OpenTelemetry here, so a gateway that does not trace
 * never loads it).
 */
export interface RequestTrace {
  /** The gateway's span for the request (kind SERVER). */
  readonly span: Span;
  /** The trace id, for an audit line and the console (docs/OBSERVABILITY.md, "How they join"). */
  readonly traceId: string;
  /** A span under the request's (kind INTERNAL unless told), started now; its owner ends it. */
  child(name: string, attributes?: Attributes, kind?: SpanKind): Span;
  /**
   * A step that ran from `start` to `end` (`performance.now()`), as a span under the request's
   * when it took long enough to be worth reading (the tracing's `minStepMs`).
   */
  step(name: string, start: number, end: number, attributes?: Attributes): void;
  /** The trace context naming `span` (or the request's own) as the parent: traceparent, tracestate, baggage. */
  carrier(span?: Span): TraceCarrier;
}

export const REQUEST_TRACE = new RequestKey<RequestTrace>('sessiongate.trace');

/** The request's trace, or undefined when tracing is off (or the request was made outside the server). */
export function traceOf(context: RequestContext): RequestTrace | undefined {
  return context.get(REQUEST_TRACE);
}

/**
 * A wait from now until the returned function is first called, a step of the request's trace
 * (`RequestTrace.step`), or undefined when the request is not traced.
 */
export function waitSpan(context: RequestContext, name: string, attributes?: Attributes): (() => void) | undefined {
  const traced = traceOf(context);
  if (!traced) return undefined;
  const start = performance.now();
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    traced.step(name, start, performance.now(), attributes);
  };
}

/** The trace context a message carries in `params._meta` (SEP-414), when it has a traceparent. */
export function metaCarrier(message: JsonRpcMessage): TraceCarrier | undefined {
  if (!('method' in message)) return undefined;
  const meta = message.params?.['_meta'];
  if (!isObject(meta) || typeof meta['traceparent'] !== 'string') return undefined;
  const carrier: TraceCarrier = { traceparent: meta['traceparent'] };
  for (const key of ['tracestate', 'baggage']) if (typeof meta[key] === 'string') carrier[key] = meta[key];
  return carrier;
}

/** `message` with `carrier` in its `params._meta` (what was there under those keys replaced). */
export function withTraceMeta<T extends JsonRpcMessage>(message: T, carrier: TraceCarrier): T {
  if (!('method' in message)) return message;
  const params = message.params ?? {};
  const meta = isObject(params['_meta']) ? params['_meta'] : {};
  const cleaned = { ...meta };
  delete cleaned['traceparent'];
  delete cleaned['tracestate'];
  delete cleaned['baggage'];
  return { ...message, params: { ...params, _meta: { ...cleaned, ...carrier } } };
}
