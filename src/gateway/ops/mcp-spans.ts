/**
 * @module gateway/ops/mcp-spans
 * How an MCP request is described on a span, after OpenTelemetry's semantic conventions for
 * MCP (development status, docs/OBSERVABILITY.md, "Traces"): the name `{method} {target}` with
 * the tool or prompt as target (never a resource URI: too many names), `mcp.method.name`,
 * `jsonrpc.request.id`, `mcp.protocol.version`, `mcp.session.id` (the session's tag, as the
 * audit shows it, never the id), `gen_ai.tool.name` / `gen_ai.prompt.name` / `mcp.resource.uri`;
 * an error answer's JSON-RPC code in `rpc.response.status_code` and `error.type`, a tool's own
 * error as `error.type` `tool_error`.
 */
import { type Attributes, type Span, SpanStatusCode } from '@opentelemetry/api';
import { isResponse, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import { isStreamReply, type Reply } from '../../server/application.js';
import { watched } from '../../server/watched-stream.js';
import type { RequestContext } from '../../server/application.js';
import { sessionTag } from '../../session/id.js';

/** The span name: `tools/call NAME`, `prompts/get NAME`, else the method. */
export function spanName(request: JsonRpcRequest): string {
  const name = request.params?.['name'];
  const named = typeof name === 'string' && (request.method === 'tools/call' || request.method === 'prompts/get');
  return named ? `${request.method} ${name}` : request.method;
}

/**
 * What an exchange's span carries: the method and the tool or prompt (the request's id,
 * revision and session are on its parent, the request's span; each attribute is paid for in
 * every export).
 */
export function exchangeAttributes(request: JsonRpcRequest, server: string | undefined): Attributes {
  const attributes: Attributes = { 'mcp.method.name': request.method };
  const name = request.params?.['name'];
  if (request.method === 'tools/call' && typeof name === 'string') attributes['gen_ai.tool.name'] = name;
  else if (request.method === 'prompts/get' && typeof name === 'string') attributes['gen_ai.prompt.name'] = name;
  if (server !== undefined) attributes['sessiongate.server.name'] = server;
  return attributes;
}

/** What a span of this request carries from the start. */
export function requestAttributes(request: JsonRpcRequest, context: RequestContext): Attributes {
  const attributes: Attributes = {
    'mcp.method.name': request.method,
    'jsonrpc.request.id': String(request.id),
    'mcp.protocol.version': context.protocolVersion,
  };
  if (context.session) attributes['mcp.session.id'] = sessionTag(context.session.id);
  const params = request.params;
  const name = params?.['name'];
  if (request.method === 'tools/call' && typeof name === 'string') {
    attributes['gen_ai.tool.name'] = name;
    attributes['gen_ai.operation.name'] = 'execute_tool';
  } else if (request.method === 'prompts/get' && typeof name === 'string') attributes['gen_ai.prompt.name'] = name;
  const uri = params?.['uri'];
  if (typeof uri === 'string' && request.method.startsWith('resources/')) attributes['mcp.resource.uri'] = uri;
  return attributes;
}

/** Ends `span` with how the request went: its JSON-RPC error, a tool's own error, or none at all. */
export function endWith(span: Span, response: JsonRpcResponse | undefined): void {
  if (!response) {
    span.setAttribute('error.type', 'no_response');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'ended without a response' });
  } else if ('error' in response) {
    const code = String(response.error.code);
    span.setAttributes({ 'rpc.response.status_code': code, 'error.type': code });
    span.setStatus({ code: SpanStatusCode.ERROR, message: response.error.message });
  } else if (response.result['isError'] === true) {
    span.setAttribute('error.type', 'tool_error');
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Ends `span` for a request that failed with an exception (answered by the server as an error). */
export function endWithException(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setAttribute('error.type', error instanceof Error ? error.name : 'error');
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * `pending` passed through, `span` ended with how it went: at the response (a stream's too, not
 * when the stream is closed, so a span inside never ends after its parent), or its failure.
 * `alter` may change a stream's other messages on the way.
 */
export function spanOver(span: Span, pending: Promise<Reply>, alter?: Alter): Promise<Reply> {
  return pending.then(
    (reply) => {
      if (isStreamReply(reply)) return spanOverStream(span, reply, alter);
      endWith(span, reply);
      return reply;
    },
    (error: unknown) => {
      endWithException(span, error);
      throw error;
    },
  );
}

type Alter = (message: JsonRpcMessage) => JsonRpcMessage | undefined;

/** A stream passed through, `span` ended at its response (or at its end without one). */
export function spanOverStream(span: Span, messages: AsyncIterable<JsonRpcMessage>, alter?: Alter): AsyncIterable<JsonRpcMessage> {
  let answered = false;
  return watched(
    messages,
    () => {
      if (!answered) endWith(span, undefined);
    },
    (message) => {
      if (!isResponse(message)) return alter?.(message);
      answered = true;
      endWith(span, message);
      return undefined;
    },
  );
}

/** `next(request, context)`, a synchronous throw made a rejection (as an async stage's would be). */
export function called<T>(next: () => Promise<T>): Promise<T> {
  try {
    return next();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
