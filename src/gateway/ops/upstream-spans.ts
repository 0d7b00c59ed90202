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
import type { JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { isResponse } from '../../protocol/jsonrpc.js';
import { isStreamReply, type McpApplication } from '../../server/application.js';
import { traceOf, withTraceMeta } from '../../server/request-trace.js';
import { compose, type Stage } from '../../server/stage.js';
import { watched } from '../../server/watched-stream.js';
import { endWith, endWithException, requestAttributes, spanName } from './mcp-spans.js';

/** `application` (one server's upstream) with a span per exchange; `server`: its name in a federation. */
export function tracedUpstream(application: McpApplication, server?: string): McpApplication {
  return compose(application, [upstreamSpans(server)]);
}

export function upstreamSpans(server?: string): Stage {
  return {
    name: 'upstream spans',
    async handle(request, context, next) {
      const traced = traceOf(context);
      if (!traced) return next(request, context);
      const attributes = requestAttributes(request, context);
      if (server !== undefined) attributes['sessiongate.server.name'] = server;
      const span = traced.child(spanName(request), attributes, SpanKind.CLIENT);
      const forwarded = request.method === 'initialize' ? request : withTraceMeta(request, traced.carrier(span));
      let reply;
      try {
        reply = await next(forwarded, context);
      } catch (error) {
        endWithException(span, error);
        throw error;
      }
      if (!isStreamReply(reply)) {
        endWith(span, reply);
        return reply;
      }
      // Ended at the response (the request's own span ends there too, never before this one).
      let answered = false;
      return watched(
        reply,
        () => {
          if (!answered) endWith(span, undefined);
        },
        (message: JsonRpcMessage) => {
          if (!isResponse(message)) return;
          answered = true;
          endWith(span, message);
        },
      );
    },
  };
}
