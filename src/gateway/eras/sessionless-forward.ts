/**
 * @module gateway/eras/sessionless-forward
 * Sessionless client -> sessionless upstream (both 2026-07-28): each request goes up as it came,
 * no session on either side. The gateway reads the body (to audit it), so it holds the client to
 * the header rules the server layer checked (method, name) and to the `Mcp-Param-*` rules of the
 * tools it has seen listed; unrecognised `Mcp-Param-*` headers are forwarded untouched, as an
 * intermediary must. `subscriptions/listen` streams through for as long as the client stays.
 */
import { SessionlessClient } from '../../client/sessionless-client.js';
import { CLIENT_SESSION_ID } from '../../protocol/headers.js';
import type { JsonRpcMessage, JsonRpcRequest } from '../../protocol/jsonrpc.js';
import { checkParamHeaders, PARAM_HEADER_PREFIX } from '../../protocol/param-headers.js';
import type { Reply, RequestContext } from '../../server/application.js';
import { MessageQueue } from '../../server/message-queue.js';
import { PendingReply } from '../../server/pending-reply.js';
import type { FairSlots } from '../upstreams/fair-slots.js';
import type { ToolHeaders } from './tool-headers.js';
import { upstreamFailure } from '../upstreams/upstream-failure.js';

export interface SessionlessForward {
  handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply>;
}

export function sessionlessForward(
  client: SessionlessClient,
  tools: ToolHeaders,
  headersFor: (context: RequestContext) => Record<string, string>,
  slots: FairSlots,
): SessionlessForward {
  function upstreamHeaders(context: RequestContext): Record<string, string> {
    const headers = headersFor(context);
    for (const [name, value] of Object.entries(context.headers())) {
      if (name.startsWith(PARAM_HEADER_PREFIX) && typeof value === 'string') headers[name] = value;
    }
    // The correlation id travels on; it is never required (SEP-2822 draft).
    if (context.clientSessionId !== undefined) headers[CLIENT_SESSION_ID] = context.clientSessionId;
    return headers;
  }

  return {
    async handle(request, context) {
      if (request.method === 'tools/call' && typeof request.params?.['name'] === 'string') {
        checkParamHeaders((name) => context.header(name), request.params['arguments'], tools.of(request.params['name']));
      }
      if (request.method === 'subscriptions/listen') {
        const stream = new MessageQueue<JsonRpcMessage>(() => abort.abort());
        const abort = new AbortController();
        context.signal.addEventListener('abort', () => stream.end(), { once: true });
        client
          .listen(request, (message) => stream.push(message), upstreamHeaders(context), abort.signal)
          .then(
            () => stream.end(),
            (error: unknown) => {
              stream.push(upstreamFailure(request.id, (error as Error).message));
              stream.end();
            },
          );
        return stream;
      }
      const pending = new PendingReply();
      // No session here: the caller's turn, then its conversation's (its correlation id).
      slots
        .run(
          context.clientSessionId ?? context.principal ?? '',
          // The sessionless client does not wait for a slow reader: bound-and-end (docs/limits.md, "Streams").
          () => client.request(request, (message) => void pending.push(message), upstreamHeaders(context), context.signal),
          context.signal,
          context.principal,
        )
        .then(
          (response) => {
            if (request.method === 'tools/list' && 'result' in response) tools.learn(response.result);
            pending.respond(response);
          },
          (error: unknown) => pending.respond(upstreamFailure(request.id, (error as Error).message)),
        );
      return pending.reply;
    },
  };
}
