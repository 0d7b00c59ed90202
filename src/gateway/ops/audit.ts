/**
 * @module gateway/ops/audit
 * The audit trail: one JSON line per event, for every JSON-RPC message the gateway answers and
 * for every session created or ended: who (principal hash), which session (a short tag, never
 * the id), which conversation (the client correlation id), what (method and tool, resource or
 * prompt name, and the server it went to behind a federation), how it went (result or error code) and how long it took. The log they are
 * written to, hash-chained, is gateway/audit-log/audit-log.ts.
 */
import { isObject, isResponse, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import type { McpApplication, Reply, RequestContext } from '../../server/application.js';
import { isStreamReply } from '../../server/application.js';
import { compose, type Stage } from '../../server/stage.js';
import { verdictOf } from '../../policy/policy-gate.js';
import { type IdentityView, SESSION_IDENTITY, subjectView } from '../identity-view.js';
import type { EventSink } from '../audit-events.js';
import { sessionTag } from '../../session/id.js';
import { watched } from '../../server/watched-stream.js';
import { traceOf } from '../../server/request-trace.js';
import { UPSTREAM_FORM } from '../curation/curation-stage.js';

/**
 * `application` behind the audit stage alone: every request it answers, and every call it
 * adopts after a crash, leaves one event in `log`.
 */
export function audited(
  application: McpApplication,
  log: EventSink,
  view: IdentityView = subjectView,
  serverOf?: (request: JsonRpcRequest) => string | undefined,
): McpApplication {
  return compose(application, [auditStage(log, view, serverOf)]);
}

/**
 * The audit stage: one event in `log` per request answered and per call adopted, naming the
 * caller with `view` and carrying the policy's verdict when a policy stage inside left one; a
 * session created by a verified caller keeps that view in its state (SESSION_IDENTITY, for the
 * admin API), written while the upstream answers initialize.
 */
export function auditStage(
  log: EventSink,
  view: IdentityView = subjectView,
  serverOf?: (request: JsonRpcRequest) => string | undefined,
): Stage {
  function record(request: JsonRpcRequest, context: RequestContext, started: number, response: JsonRpcResponse | undefined): void {
    const error = response && 'error' in response ? response.error : undefined;
    const session = context.session;
    // Curated: the name the client called, and the one the policy and the upstream saw (docs/CURATION.md, "What the policy and the audit see").
    const upstream = context.get(UPSTREAM_FORM);
    const asked = upstream && nameOf(request);
    if (upstream) request = upstream;
    const server = serverOf?.(request);
    log.write({
      event: 'request',
      session: session ? sessionTag(session.id) : null,
      principal: context.principal,
      identity: view(context.identity),
      clientSessionId: context.clientSessionId ?? null,
      method: request.method,
      name: nameOf(request),
      ...(asked && asked !== nameOf(request) ? { calledAs: asked } : {}),
      ...(server === undefined ? {} : { server }),
      outcome: outcomeOf(response),
      code: error ? error.code : response ? null : -32603,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...verdictOf(context),
      ...traceIdOf(context),
    });
    if (request.method === 'initialize' && session && response && !error) {
      log.write({
        event: 'session.created',
        session: sessionTag(session.id),
        principal: context.principal,
        identity: view(context.identity),
        clientSessionId: context.clientSessionId ?? null,
        protocolVersion: versionOf(response) ?? session.record.protocolVersion,
      });
    }
  }

  return {
    name: 'audit',
    adopt(call, context, next) {
      const rest = next(call, context);
      if (!rest) return undefined;
      const started = performance.now();
      return watch(rest, (response) => {
        const error = response && 'error' in response ? response.error : undefined;
        log.write({
          event: 'request.adopted',
          session: context.session ? sessionTag(context.session.id) : null,
          principal: context.principal,
          identity: view(context.identity),
          clientSessionId: context.clientSessionId ?? null,
          requestId: call.requestId,
          outcome: outcomeOf(response),
          code: error ? error.code : response ? null : -32603,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          ...traceIdOf(context),
        });
      });
    },
    async handle(request, context, next) {
      const started = performance.now();
      let reply: Reply;
      try {
        reply =
          request.method === 'initialize'
            ? (await Promise.all([next(request, context), keepIdentity(context, view)]))[0]
            : await next(request, context);
      } catch (error) {
        record(request, context, started, undefined);
        throw error;
      }
      if (!isStreamReply(reply)) {
        record(request, context, started, reply);
        return reply;
      }
      return watch(reply, (response) => record(request, context, started, response));
    },
  };
}

/** The request's trace id, when the gateway traces (docs/OBSERVABILITY.md, "How they join"). */
function traceIdOf(context: RequestContext): { traceId: string } | undefined {
  const traced = traceOf(context);
  return traced && { traceId: traced.traceId };
}

/** Stores the creator's identity view with a session being initialized by a verified caller. */
async function keepIdentity(context: RequestContext, view: IdentityView): Promise<void> {
  const identity = view(context.identity);
  if (identity && context.session) await context.session.port.writeState(context.session.id, SESSION_IDENTITY, identity);
}

/** Passes a stream through, reporting its response (or none, if it ended without one). */
function watch(
  messages: AsyncIterable<JsonRpcMessage>,
  done: (response: JsonRpcResponse | undefined) => void,
): AsyncIterableIterator<JsonRpcMessage> {
  let response: JsonRpcResponse | undefined;
  return watched(
    messages,
    () => done(response),
    (message) => {
      if (isResponse(message)) response = message;
    },
  );
}

/** How a call went: an error (none at all counts as one), a tool's own error, or a result. */
function outcomeOf(response: JsonRpcResponse | undefined): 'result' | 'error' | 'tool-error' {
  if (!response || 'error' in response) return 'error';
  return response.result['isError'] === true ? 'tool-error' : 'result';
}

/** The revision an initialize result names, when it names one. */
function versionOf(response: JsonRpcResponse): string | undefined {
  const version = 'result' in response ? response.result['protocolVersion'] : undefined;
  return typeof version === 'string' ? version : undefined;
}

/** The tool, prompt or resource a request is about. */
function nameOf(request: JsonRpcRequest): string | null {
  const params = request.params;
  // A completion is named by what it completes (its ref's prompt name or resource URI).
  const ref = request.method === 'completion/complete' && isObject(params?.['ref']) ? params['ref'] : undefined;
  const name = ref ? (ref['name'] ?? ref['uri']) : (params?.['name'] ?? params?.['uri']);
  // Client text: bounded, with a marker when cut.
  return typeof name === 'string' ? (name.length > 200 ? `${name.slice(0, 200)}…` : name) : null;
}
