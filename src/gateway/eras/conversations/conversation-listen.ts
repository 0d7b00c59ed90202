/**
 * @module gateway/eras/conversations/conversation-listen
 * `subscriptions/listen` from a sessionless client, toward a handshake-era upstream: the
 * conversation's GET stream, acknowledged first and filtered to what was asked and the upstream
 * can deliver; asked-for resource subscriptions become `resources/subscribe` calls upstream.
 */
import { internalRequestId } from '../../../protocol/internal-ids.js';
import { isObject, isRequest, type JsonObject, type JsonRpcMessage, type JsonRpcRequest } from '../../../protocol/jsonrpc.js';
import { META } from '../../../protocol/sessionless-meta.js';
import type { McpApplication, Reply } from '../../../server/application.js';
import { MessageQueue } from '../../../server/message-queue.js';
import { openSessionStream } from '../../../server/session-stream.js';
import type { ConversationContext } from './conversation-context.js';
import type { InitializeResult } from './sessionless-answers.js';

/** `subscriptions/listen`: the conversation's GET stream, acknowledged first, filtered as asked. */
export function listenStream(
  upstream: McpApplication,
  request: JsonRpcRequest,
  context: ConversationContext,
  initializeResult: InitializeResult,
): Reply {
  const wanted = isObject(request.params?.['notifications']) ? request.params['notifications'] : {};
  const agreed = agreedFilter(wanted, isObject(initializeResult['capabilities']) ? initializeResult['capabilities'] : {});
  const subscriptionMeta = { [META.subscriptionId]: request.id };
  const source = openSessionStream(upstream, context, context.session)[Symbol.asyncIterator]();
  const stream = new MessageQueue<JsonRpcMessage>(() => void source.return?.());
  stream.push({
    jsonrpc: '2.0',
    method: 'notifications/subscriptions/acknowledged',
    params: { notifications: agreed, _meta: subscriptionMeta },
  });
  const uris = Array.isArray(agreed['resourceSubscriptions']) ? agreed['resourceSubscriptions'].filter((u) => typeof u === 'string') : [];
  void (async () => {
    // resources/subscribe is session-scoped upstream: remembered and replayed on recovery.
    for (const uri of uris) {
      await upstream.handle(
        { jsonrpc: '2.0', id: internalRequestId('subscribe'), method: 'resources/subscribe', params: { uri } },
        context,
      );
    }
    for (;;) {
      const next = await source.next();
      if (next.done) break;
      const message = next.value;
      if (!('method' in message) || isRequest(message)) continue;
      if (!wantedNotification(message.method, message.params?.['uri'], agreed)) continue;
      stream.push({ ...message, params: { ...message.params, _meta: subscriptionMeta } });
    }
  })()
    .catch(() => {})
    .finally(() => stream.end());
  return stream;
}

/** The filter a listen stream agrees to: what was asked and the upstream can deliver. */
function agreedFilter(wanted: JsonObject, capabilities: JsonObject): JsonObject {
  const can = (name: string, flag: string): boolean => isObject(capabilities[name]) && capabilities[name][flag] === true;
  const agreed: JsonObject = {};
  if (wanted['toolsListChanged'] === true && can('tools', 'listChanged')) agreed['toolsListChanged'] = true;
  if (wanted['promptsListChanged'] === true && can('prompts', 'listChanged')) agreed['promptsListChanged'] = true;
  if (wanted['resourcesListChanged'] === true && can('resources', 'listChanged')) agreed['resourcesListChanged'] = true;
  if (Array.isArray(wanted['resourceSubscriptions']) && can('resources', 'subscribe')) {
    agreed['resourceSubscriptions'] = wanted['resourceSubscriptions'].filter((uri) => typeof uri === 'string');
  }
  return agreed;
}

function wantedNotification(method: string, uri: unknown, agreed: JsonObject): boolean {
  switch (method) {
    case 'notifications/tools/list_changed':
      return agreed['toolsListChanged'] === true;
    case 'notifications/prompts/list_changed':
      return agreed['promptsListChanged'] === true;
    case 'notifications/resources/list_changed':
      return agreed['resourcesListChanged'] === true;
    case 'notifications/resources/updated':
      return Array.isArray(agreed['resourceSubscriptions']) && agreed['resourceSubscriptions'].includes(uri as string);
    default:
      return false;
  }
}
