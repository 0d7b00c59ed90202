/**
 * @module gateway/eras/conversations/conversations
 * Sessionless (2026-07-28) client -> handshake-era upstream, most servers today. The upstream
 * needs a session; the client has none. The gateway keeps one upstream session per
 * conversation: the pair (principal, client correlation id from `Mcp-Client-Session-Id` or
 * `_meta.clientSessionId`, SEP-2822 draft), or the principal alone when the client sends no id
 * (configurable: or one throwaway session per request).
 *
 * A conversation is a session of the gateway (conversation-sessions.ts).
 *
 * Requests go up with the 2026 `_meta` keys removed and come back with what a sessionless client
 * expects (`resultType`, caching hints, `serverInfo`); log messages follow the request's
 * `_meta` log level; `server/discover` is answered from the upstream's initialize result;
 * `subscriptions/listen` becomes the conversation's GET stream, filtered and acknowledged.
 */
import { errorResponse } from '../../../protocol/answers.js';
import { isSessiongateError } from '../../../protocol/failures.js';
import { internalRequestId } from '../../../protocol/internal-ids.js';
import type { JsonRpcRequest, JsonRpcResponse } from '../../../protocol/jsonrpc.js';
import { checkParamHeaders } from '../../../protocol/param-headers.js';
import { type SessionlessMeta, sessionlessMetaOf, withoutSessionlessMeta } from '../../../protocol/sessionless-meta.js';
import {
  isStreamReply,
  type McpApplication,
  type Reply,
  type RequestContext,
  responseOf,
  type SessionPort,
} from '../../../server/application.js';
import type { SessionRecord } from '../../../store/record.js';
import { watched } from '../../../server/watched-stream.js';
import { upstreamFailure } from '../../upstreams/upstream-failure.js';
import type { ToolHeaders } from '../tool-headers.js';
import { ConversationContext } from './conversation-context.js';
import { listenStream } from './conversation-listen.js';
import { ConversationSessions, initializeResultOf } from './conversation-sessions.js';
import { discoverResult, relayed, toSessionless } from './sessionless-answers.js';

export interface ConversationOptions {
  /** The handshake-era upstream (`httpUpstream` or `stdioUpstream`). */
  upstream: McpApplication;
  /** The upstream's `x-mcp-header` annotations, learned from its tool lists. */
  tools: ToolHeaders;
  /**
   * A request without a correlation id: 'principal' (default) shares the principal's
   * conversation; 'request' gets a fresh upstream session, ended after the answer.
   */
  withoutCorrelationId?: 'principal' | 'request';
  /** How long a replica waits for another one creating the same conversation. Default 10 s. */
  readyTimeoutMs?: number;
  /** A conversation's session was created (for the audit trail). */
  onCreated?: (record: SessionRecord, context: RequestContext) => void | Promise<void>;
}

export interface Conversations {
  bind(sessions: SessionPort): void;
  handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply>;
}

export function conversations(options: ConversationOptions): Conversations {
  return new ConversationsBridge(options);
}

class ConversationsBridge implements Conversations {
  readonly #upstream: McpApplication;
  readonly #tools: ToolHeaders;
  readonly #sessions: ConversationSessions;
  /** A request without a correlation id gets a session of its own (else the principal's). */
  readonly #alonePerRequest: boolean;

  constructor(options: ConversationOptions) {
    this.#upstream = options.upstream;
    this.#tools = options.tools;
    this.#alonePerRequest = options.withoutCorrelationId === 'request';
    this.#sessions = new ConversationSessions({
      upstream: options.upstream,
      readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
      onCreated: options.onCreated,
    });
  }

  bind(port: SessionPort): void {
    this.#sessions.bind(port);
  }

  async handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply> {
    // The session server checked `_meta` already (handle-post.ts): only read it here.
    const meta = sessionlessMetaOf(request, context.protocolVersion);
    try {
      if (context.clientSessionId === undefined && this.#alonePerRequest) return await this.#once(request, context, meta);
      return await this.#forward(request, context, meta, await this.#sessions.of(context, meta));
    } catch (error) {
      // Caps and store faults keep their status; an upstream that failed its handshake is
      // the upstream's failure, reported like any other.
      if (isSessiongateError(error)) throw error;
      return upstreamFailure(request.id, (error as Error).message);
    }
  }

  /** One request inside a conversation session, translated both ways. */
  async #forward(request: JsonRpcRequest, context: RequestContext, meta: SessionlessMeta, record: SessionRecord): Promise<Reply> {
    const upstream = this.#upstream;
    const tools = this.#tools;
    const initializeResult = initializeResultOf(record)!;
    const upstreamContext = new ConversationContext(context, { id: record.id, record, port: this.#sessions.port });
    if (request.method === 'server/discover') return { jsonrpc: '2.0', id: request.id, result: discoverResult(initializeResult) };
    if (request.method === 'subscriptions/listen') return listenStream(upstream, request, upstreamContext, initializeResult);
    const name = request.method === 'tools/call' ? request.params?.['name'] : undefined;
    if (typeof name === 'string') {
      // The gateway reads the body, so it holds the client to the Mcp-Param-* rules (SEP-2243);
      // a handshake-era upstream does not. The annotations come from the upstream's tool list.
      if (!tools.known) await this.#listTools(upstreamContext);
      checkParamHeaders((header) => context.header(header), request.params?.['arguments'], tools.of(name));
    }
    const params = withoutSessionlessMeta(request.params);
    const reply = await upstream.handle({ ...request, ...(params ? { params } : {}) }, upstreamContext);
    const translate = (response: JsonRpcResponse): JsonRpcResponse => {
      if (request.method === 'tools/list' && 'result' in response) tools.learn(response.result);
      return toSessionless(response, request.method, initializeResult);
    };
    if (!isStreamReply(reply)) return translate(reply);
    return relayed(reply, meta, translate, (message) => this.#refuse(message, upstreamContext));
  }

  async #listTools(context: RequestContext): Promise<void> {
    const list: JsonRpcRequest = { jsonrpc: '2.0', id: internalRequestId('tools'), method: 'tools/list', params: {} };
    const response = await responseOf(await this.#upstream.handle(list, context));
    if ('result' in response) this.#tools.learn(response.result);
  }

  /**
   * A server-to-client request cannot reach a 2026-07-28 client (it would need MRTR, which this
   * bridge does not do); the upstream gets an error instead of waiting forever. A ping is
   * answered here.
   */
  #refuse(message: JsonRpcRequest, context: RequestContext): void {
    const answer: JsonRpcResponse =
      message.method === 'ping'
        ? { jsonrpc: '2.0', id: message.id, result: {} }
        : errorResponse(message.id, 'SG_NO_ROUTE', `${message.method} cannot reach a 2026-07-28 client through this gateway`);
    void Promise.resolve(this.#upstream.receive(answer, context)).catch(() => {});
  }

  /** A request with no conversation: a fresh upstream session for it alone, ended after it. */
  async #once(request: JsonRpcRequest, context: RequestContext, meta: SessionlessMeta): Promise<Reply> {
    const record = await this.#sessions.single(context, meta);
    const end = (): void => void this.#sessions.port.end(record.id).catch(() => {});
    let reply: Reply;
    try {
      reply = await this.#forward(request, context, meta, record);
    } catch (error) {
      end();
      throw error;
    }
    if (!isStreamReply(reply)) {
      end();
      return reply;
    }
    return watched(reply, end);
  }
}
