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
import type { JsonRpcRequest, JsonRpcResponse } from '../../protocol/jsonrpc.js';
import type { RequestContext } from '../../server/application.js';
import { sessionTag } from '../../session/id.js';

/** The span name: `tools/call NAME`, `prompts/get NAME`, else the method. */
export function spanName(request: JsonRpcRequest): string {
  const name = request.params?.['name'];
  const named = typeof name === 'string' && (request.method === 'tools/call' || request.method === 'prompts/get');
  return named ? `${request.method} ${name}` : request.method;
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
