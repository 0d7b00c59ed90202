/**
 * @module gateway/ops/upstream-spans
 * A CLIENT span per exchange with a server behind the gateway (docs/OBSERVABILITY.md,
 * "Traces"), under the request's span, named for the server in a federation; the request goes
 * up with that span as its parent in `params._meta` (SEP-414: a stdio server has no headers),
 * and an HTTP upstream with `traceHeaders` mirrors it in `traceparent`/`tracestate`/`baggage`
 * headers. `initialize` keeps its params as the client sent them (the record replays them).
 * A stage around an upstream application, composed only when tracing is on.
 */
import { SpanKind } from '@opentelemetry/api';
import type { McpApplication } from '../../server/application.js';
import { traceOf, withTraceMeta } from '../../server/request-trace.js';
import { compose, type Stage } from '../../server/stage.js';
import { called, exchangeAttributes, spanName, spanOver } from './mcp-spans.js';

/** `application` (one server's upstream) with a span per exchange; `server`: its name in a federation. */
export function tracedUpstream(application: McpApplication, server?: string): McpApplication {
  return compose(application, [upstreamSpans(server)]);
}

export function upstreamSpans(server?: string): Stage {
  return {
    name: 'upstream spans',
    handle(request, context, next) {
      const traced = traceOf(context);
      if (!traced) return next(request, context);
      const span = traced.child(spanName(request), exchangeAttributes(request, server), SpanKind.CLIENT);
      const forwarded = request.method === 'initialize' ? request : withTraceMeta(request, traced.carrier(span));
      return spanOver(
        span,
        called(() => next(forwarded, context)),
      );
    },
  };
}
