/**
 * @module client/sessionless-client
 * A client for the sessionless revision (2026-07-28, digest section 4): no session, every POST
 * carrying `MCP-Protocol-Version` and the routing headers, each request answered by one JSON
 * object or one SSE stream; `subscriptions/listen` as a long-lived stream. Also the era probe a
 * dual-era client makes (Streamable HTTP, Backward Compatibility).
 */
import type { Dispatcher } from 'undici';
import { PROTOCOL_VERSION } from '../protocol/headers.js';
import { isObject, isWellFormedMessage, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { mediaTypeEssence } from '../protocol/media-type.js';
import { META, type SessionlessMeta, withSessionlessMeta } from '../protocol/sessionless-meta.js';
import { routingHeaders } from '../protocol/routing-headers.js';
import { isSessionlessRevision, SESSIONLESS_REVISION } from '../protocol/revisions.js';
import { SessionClientError } from './errors.js';
import { type Body, send } from './http.js';
import { SseParser } from './sse-parser.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './options.js';
import { internalRequestId } from '../protocol/internal-ids.js';

export interface SessionlessClientOptions {
  dispatcher?: Dispatcher;
  /** Headers on every request (credentials, forwarded headers), computed per request. */
  headers?: () => Record<string, string>;
}

/** JSON-RPC errors that only a sessionless server sends (Versioning: Backward Compatibility). */
const SESSIONLESS_ERRORS = new Set([-32020, -32021, -32022]);

export class SessionlessClient {
  readonly url: URL;
  readonly #options: SessionlessClientOptions;

  constructor(url: string | URL, options: SessionlessClientOptions = {}) {
    this.url = new URL(url);
    this.#options = options;
  }

  /**
   * Sends one request and resolves with its response, an error response included (a sessionless
   * server answers 400 and 404 with JSON-RPC bodies). Messages before the response (progress,
   * logging) go to `onRelated`. `extraHeaders` carries `Mcp-Param-*` and the like.
   */
  async request(
    message: JsonRpcRequest,
    onRelated: (message: JsonRpcMessage) => void = () => {},
    extraHeaders: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<JsonRpcResponse> {
    const answer = await this.#post(message, extraHeaders, signal);
    const type = mediaTypeEssence(answer.header('content-type'));
    if (type === 'text/event-stream' && answer.status === 200) {
      let response: JsonRpcResponse | undefined;
      await readMessages(answer.body, (inbound) => {
        if (!('method' in inbound) && inbound.id === message.id) response = inbound;
        else onRelated(inbound);
        return response !== undefined;
      });
      if (response) return response;
      throw new SessionClientError('SG_CLIENT_CONNECTION', 'the stream ended before the response (not retried)');
    }
    if (type === 'application/json') {
      const parsed = await readJson(answer.body);
      if (isObject(parsed) && parsed['jsonrpc'] === '2.0' && ('result' in parsed || 'error' in parsed)) {
        return parsed as unknown as JsonRpcResponse;
      }
      throw new SessionClientError('SG_CLIENT_PROTOCOL', `HTTP ${answer.status} without a JSON-RPC response`, { status: answer.status });
    }
    await answer.body.dump();
    throw new SessionClientError('SG_CLIENT_HTTP_STATUS', `HTTP ${answer.status}`, { status: answer.status });
  }

  /**
   * `subscriptions/listen`: delivers every message of the stream until it ends, the server
   * answers (graceful teardown) or `signal` aborts. Rejects when the server refuses to open it.
   */
  async listen(
    message: JsonRpcRequest,
    onMessage: (message: JsonRpcMessage) => void,
    extraHeaders: Record<string, string>,
    signal: AbortSignal,
  ): Promise<void> {
    const answer = await this.#post(message, extraHeaders, signal, true);
    const type = mediaTypeEssence(answer.header('content-type'));
    if (answer.status !== 200 || type !== 'text/event-stream') {
      const body = type === 'application/json' ? await readJson(answer.body).catch(() => undefined) : await answer.body.dump();
      const error = isObject(body) && isObject(body['error']) ? body['error'] : undefined;
      throw new SessionClientError('SG_CLIENT_HTTP_STATUS', `listen refused with HTTP ${answer.status}`, {
        status: answer.status,
        ...(error ? { rpc: { code: Number(error['code']), data: error['data'] } } : {}),
      });
    }
    try {
      await readMessages(answer.body, (inbound) => {
        onMessage(inbound);
        return !('method' in inbound) && inbound.id === message.id;
      });
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  /** `longLived`: a listen stream, kept out of the request pool (client/http.ts). */
  async #post(message: JsonRpcRequest, extraHeaders: Record<string, string>, signal: AbortSignal | undefined, longLived = false) {
    const meta = message.params?.['_meta'];
    const version = isObject(meta) ? meta[META.protocolVersion] : undefined;
    const headers: Record<string, string> = {
      ...this.#options.headers?.(),
      ...extraHeaders,
      ...routingHeaders(message),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      [PROTOCOL_VERSION]: typeof version === 'string' ? version : SESSIONLESS_REVISION,
    };
    return send(this.url, 'POST', headers, {
      body: JSON.stringify(message),
      ...(signal ? { signal } : {}),
      ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}),
      longLived,
    });
  }
}

/**
 * Which era a server speaks: a sessionless `server/discover` that succeeds, or fails with an error
 * only sessionless servers send, means sessionless; anything else (a handshake-era 400 about a missing
 * session, a 404, -32601 for the unknown method) means handshake-era.
 */
export async function probeEra(client: SessionlessClient, meta: SessionlessMeta): Promise<'handshake' | 'sessionless'> {
  const discover: JsonRpcRequest = {
    jsonrpc: '2.0',
    id: internalRequestId('era-probe'),
    method: 'server/discover',
    params: withSessionlessMeta({}, meta),
  };
  let response: JsonRpcResponse;
  try {
    response = await client.request(discover);
  } catch (error) {
    if (error instanceof SessionClientError && error.code !== 'SG_CLIENT_CONNECTION') return 'handshake';
    throw error;
  }
  if ('result' in response) return Array.isArray(response.result['supportedVersions']) ? 'sessionless' : 'handshake';
  if (!SESSIONLESS_ERRORS.has(response.error.code)) return 'handshake';
  // A server that knows the sessionless errors but lists only handshake-era versions as supported
  // (a dual-era-aware server that does not serve 2026-07-28) is spoken to with a handshake.
  const data = response.error.data;
  const supported = isObject(data) && Array.isArray(data['supported']) ? data['supported'] : undefined;
  if (supported && !supported.some((version) => typeof version === 'string' && isSessionlessRevision(version))) return 'handshake';
  return 'sessionless';
}

async function readJson(body: Body): Promise<unknown> {
  try {
    // Bounded: a huge answer is refused at the limit, not buffered (docs/limits.md).
    return await body.json(DEFAULT_MAX_MESSAGE_BYTES);
  } catch (cause) {
    throw new SessionClientError('SG_CLIENT_PROTOCOL', 'the JSON answer did not parse', { cause });
  }
}

/** Reads SSE messages until `take` says stop (then the connection is let go) or the stream ends. */
async function readMessages(body: Body, take: (message: JsonRpcMessage) => boolean): Promise<void> {
  const batch: JsonRpcMessage[] = [];
  const parser = new SseParser({
    onEvent(event) {
      if (event.event !== 'message' || event.data === '') return;
      try {
        const message: unknown = JSON.parse(event.data);
        if (isWellFormedMessage(message)) batch.push(message);
      } catch {
        // a malformed event is skipped
      }
    },
  });
  try {
    for await (const chunk of body) {
      parser.push(chunk);
      for (const message of batch.splice(0)) {
        if (take(message)) return;
      }
    }
  } catch (cause) {
    throw new SessionClientError('SG_CLIENT_CONNECTION', 'the stream broke', { cause });
  } finally {
    body.destroy();
  }
}
