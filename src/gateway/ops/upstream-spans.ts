/**
 * @module gateway/ops/upstream-spans
 * A CLIENT span per exchange with a server behind the gateway (docs/OBSERVABILITY.md,
 * "Traces"), under the request's span, named for the server in a federation; the request goes
 * up with that span as its parent in `params._meta` (SEP-414: a stdio server has no headers),
 * and an HTTP upstream with `traceHeaders` mirrors it in `traceparent`/`tracestate`/`baggage`
 * headers. `initialize` and the session-scoped calls (`logging/setLevel`, subscriptions) keep
 * their params as the client sent them: a session replays them after a restart.
 * A stage around an upstream application, composed only when tracing is on.
 */
import { SpanKind } from '@opentelemetry/api';
import { isSessionScoped } from '../../protocol/session-scoped.js';
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
      // What a session replays after a restart (initialize, session-scoped calls) goes up as the client sent it.
      const replayed = request.method === 'initialize' || isSessionScoped(request.method);
      const forwarded = replayed ? request : withTraceMeta(request, traced.carrier(span));
      return spanOver(
        span,
        called(() => next(forwarded, context)),
      );
    },
  };
}
