/**
 * @module gateway/eras/conversations/sessionless-answers
 * A handshake-era upstream's answers as a sessionless (2026-07-28) client expects them:
 * `server/discover` from the initialize result, `resultType`, caching hints and the server's
 * identity on every result, and a call's stream with log messages by the request's level and
 * no server-to-client requests.
 */
import {
  isObject,
  isRequest,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../../../protocol/jsonrpc.js';
import { ALL_REVISIONS, CACHEABLE_METHODS, logMessageAllowed, META, type SessionlessMeta } from '../../../protocol/sessionless-meta.js';

/** What the conversation reports as the result of its handshake. */
export type InitializeResult = JsonObject;

/** DiscoverResult from the upstream's InitializeResult. */
export function discoverResult(initialize: InitializeResult): JsonObject {
  const result: JsonObject = {
    supportedVersions: [...ALL_REVISIONS],
    capabilities: isObject(initialize['capabilities']) ? initialize['capabilities'] : {},
    resultType: 'complete',
    ttlMs: 0,
    cacheScope: 'private',
  };
  if (typeof initialize['instructions'] === 'string') result['instructions'] = initialize['instructions'];
  if (isObject(initialize['serverInfo'])) result['_meta'] = { [META.serverInfo]: initialize['serverInfo'] };
  return result;
}

/**
 * A handshake-era answer as a 2026-07-28 client expects it: `resultType` (required), the
 * server's identity in `_meta` (a SHOULD), and caching hints on cacheable results (SEP-2549:
 * the gateway cannot know how long the upstream's lists stay valid, so 0 and private).
 */
export function toSessionless(response: JsonRpcResponse, method: string, initialize: InitializeResult): JsonRpcResponse {
  if (!('result' in response)) return response;
  const result: JsonObject = { resultType: 'complete', ...response.result };
  if (CACHEABLE_METHODS.has(method)) {
    result['ttlMs'] ??= 0;
    result['cacheScope'] ??= 'private';
  }
  if (isObject(initialize['serverInfo'])) {
    const meta = isObject(result['_meta']) ? result['_meta'] : {};
    result['_meta'] = { ...meta, [META.serverInfo]: initialize['serverInfo'] };
  }
  return { ...response, result };
}

/**
 * The upstream's stream as the client may see it: log messages by the request's level, no
 * server-to-client requests (refused upstream), the response translated. `return()` reaches
 * the source at once when the client leaves.
 */
export function relayed(
  source: AsyncIterable<JsonRpcMessage>,
  meta: SessionlessMeta,
  translate: (response: JsonRpcResponse) => JsonRpcResponse,
  refuse: (request: JsonRpcRequest) => void,
): AsyncIterableIterator<JsonRpcMessage> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    async next() {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return next;
        const message = next.value;
        if (!('method' in message)) return { value: translate(message), done: false };
        if (isRequest(message)) refuse(message);
        else if (logMessageAllowed(message, meta.logLevel)) return next;
      }
    },
    async return() {
      return (await iterator.return?.()) ?? { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
