/**
 * @module gateway/eras/conversations
 * Sessionless (2026-07-28) client -> handshake-era upstream, most servers today. The upstream
 * needs a session; the client has none. The gateway keeps one upstream session per
 * conversation: the pair (principal, client correlation id from `Mcp-Client-Session-Id` or
 * `_meta.clientSessionId`, SEP-2822 draft), or the principal alone when the client sends no id
 * (configurable: or one throwaway session per request).
 *
 * A conversation is an ordinary session of the gateway, whose id is a keyed
 * hash of the conversation key: it expires on idle, counts toward the caps, lives in the store
 * (surviving restarts) and ends its upstream session like any other. Its creation is a
 * single flight: in this process one promise per key; across replicas the store's atomic
 * insert under the derived id lets exactly one win while the others wait for it to be ready.
 *
 * Requests go up with the 2026 `_meta` keys removed and come back with what a sessionless client
 * expects (`resultType`, caching hints, `serverInfo`); log messages follow the request's
 * `_meta` log level; `server/discover` is answered from the upstream's initialize result;
 * `subscriptions/listen` becomes the conversation's GET stream, filtered and acknowledged.
 */
import { isSessiongateError, JSONRPC, SessiongateError } from '../../protocol/failures.js';
import {
  isObject,
  isRequest,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
} from '../../protocol/jsonrpc.js';
import {
  ALL_REVISIONS,
  CACHEABLE_METHODS,
  logMessageAllowed,
  META,
  type SessionlessMeta,
  sessionlessMetaOf,
  withoutSessionlessMeta,
} from '../../protocol/sessionless-meta.js';
import { checkParamHeaders } from '../../protocol/param-headers.js';
import { LATEST_HANDSHAKE_REVISION } from '../../protocol/revisions.js';
import {
  isStreamReply,
  type McpApplication,
  type Reply,
  type RequestContext,
  responseOf,
  type SessionHandle,
  type SessionPort,
} from '../../server/application.js';
import { stateSlot } from '../../session/state-slot.js';
import { z } from 'zod';
import { openSessionStream } from '../../server/session-stream.js';
import { MessageQueue } from '../../server/message-queue.js';
import { mintSessionId } from '../../session/id.js';
import type { SessionRecord } from '../../store/record.js';
import type { ToolHeaders } from './tool-headers.js';
import { upstreamFailure } from '../upstreams/upstream-failure.js';
import { watched } from '../ops/watched-stream.js';
import { internalRequestId } from '../../protocol/internal-ids.js';

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
  onCreated?: (record: SessionRecord) => void;
}

export interface Conversations {
  bind(sessions: SessionPort): void;
  handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply>;
}

/** Where a conversation keeps the upstream's initialize result, in its record's state. */
const CONVERSATION = stateSlot('sessiongate.conversation', z.object({ initializeResult: z.custom<JsonObject>(isObject) }));
/** Client capabilities a 2026-07-28 client cannot use through this bridge (no MRTR toward it). */
const UNBRIDGED_CAPABILITIES = ['sampling', 'elicitation', 'roots'];

/** What the conversation reports as the result of its handshake. */
type InitializeResult = JsonObject;

export function conversations(options: ConversationOptions): Conversations {
  const upstream = options.upstream;
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const flights = new Map<string, Promise<SessionRecord>>();
  let bound: SessionPort | undefined;
  const sessions = (): SessionPort => {
    if (!bound) throw new Error('sessiongate: conversations used before bind()');
    return bound;
  };

  /** The upstream handshake the conversation's first request stands for. */
  function initializeParams(meta: SessionlessMeta): JsonObject {
    const capabilities: JsonObject = { ...meta.clientCapabilities };
    for (const name of UNBRIDGED_CAPABILITIES) delete capabilities[name];
    return {
      protocolVersion: LATEST_HANDSHAKE_REVISION,
      capabilities,
      clientInfo: meta.clientInfo ?? { name: 'sessionless-client', version: '0' },
    };
  }

  async function conversation(context: RequestContext, meta: SessionlessMeta): Promise<SessionRecord> {
    const port = sessions();
    const key = context.clientSessionId ?? '';
    const id = await port.conversationId(context.principal, key);
    const live = await port.find(id, context.principal);
    if (live && CONVERSATION.read(live.state)) return live;
    let flight = flights.get(id);
    if (!flight) {
      flight = establish(id, context, meta, key).finally(() => flights.delete(id));
      flights.set(id, flight);
    }
    return flight;
  }

  /** Creates the conversation's session and upstream handshake, or waits for whoever does. */
  async function establish(id: string, context: RequestContext, meta: SessionlessMeta, key: string): Promise<SessionRecord> {
    const port = sessions();
    const deadline = port.now() + readyTimeoutMs;
    for (;;) {
      const created = await port.createOnce(id, context.principal, {
        protocolVersion: LATEST_HANDSHAKE_REVISION,
        initialize: initializeParams(meta),
        clientSessionId: key === '' ? null : key,
      });
      if (created) return handshake(created, context);
      // Another request (here or on another replica) holds the claim: wait until it is ready.
      for (;;) {
        const record = await port.find(id, context.principal);
        if (!record) break; // its handshake failed and it gave up: claim it again
        if (CONVERSATION.read(record.state)) return record;
        if (port.now() > deadline) throw new SessiongateError('SG_INTERNAL', 'the conversation did not become ready in time');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  }

  async function handshake(record: SessionRecord, context: RequestContext): Promise<SessionRecord> {
    const port = sessions();
    const upstreamContext = new ConversationContext(context, { id: record.id, record, port });
    const request: JsonRpcRequest = {
      jsonrpc: '2.0',
      id: internalRequestId('initialize'),
      method: 'initialize',
      params: record.initialize,
    };
    let response: JsonRpcResponse;
    try {
      response = await responseOf(await upstream.handle(request, upstreamContext));
      if ('error' in response) throw new Error(`the upstream refused initialize: ${response.error.message}`);
      await upstream.receive({ jsonrpc: '2.0', method: 'notifications/initialized' }, upstreamContext);
    } catch (error) {
      await port.end(record.id);
      throw error;
    }
    // The upstream may have stored its own part of the state meanwhile: merge with the latest.
    // Through the session layer, so replicas waiting for this conversation (their record caches)
    // hear that it is ready.
    const ready = { initializeResult: response.result };
    await port.writeState(record.id, CONVERSATION, ready);
    options.onCreated?.(record);
    const latest = (await port.find(record.id, record.principal)) ?? record;
    return { ...latest, state: { ...latest.state, [CONVERSATION.key]: ready } };
  }

  /** One request inside a conversation session, translated both ways. */
  async function forward(request: JsonRpcRequest, context: RequestContext, meta: SessionlessMeta, record: SessionRecord): Promise<Reply> {
    const { initializeResult } = CONVERSATION.read(record.state)!;
    const upstreamContext = new ConversationContext(context, { id: record.id, record, port: sessions() });
    if (request.method === 'server/discover') return { jsonrpc: '2.0', id: request.id, result: discoverResult(initializeResult) };
    if (request.method === 'subscriptions/listen') return listen(request, upstreamContext, initializeResult);
    const name = request.method === 'tools/call' ? request.params?.['name'] : undefined;
    if (typeof name === 'string') {
      // The gateway reads the body, so it holds the client to the Mcp-Param-* rules (SEP-2243);
      // a handshake-era upstream does not. The annotations come from the upstream's tool list.
      if (!options.tools.known) await listTools(upstreamContext);
      checkParamHeaders((header) => context.header(header), request.params?.['arguments'], options.tools.of(name));
    }
    const params = withoutSessionlessMeta(request.params);
    const reply = await upstream.handle({ ...request, ...(params ? { params } : {}) }, upstreamContext);
    const translate = (response: JsonRpcResponse): JsonRpcResponse => {
      if (request.method === 'tools/list' && 'result' in response) options.tools.learn(response.result);
      return toSessionless(response, request.method, initializeResult);
    };
    if (!isStreamReply(reply)) return translate(reply);
    return relayed(reply, meta, translate, (message) => refuse(message, upstreamContext));
  }

  async function listTools(context: RequestContext): Promise<void> {
    const list: JsonRpcRequest = { jsonrpc: '2.0', id: internalRequestId('tools'), method: 'tools/list', params: {} };
    const response = await responseOf(await upstream.handle(list, context));
    if ('result' in response) options.tools.learn(response.result);
  }

  /**
   * A server-to-client request cannot reach a 2026-07-28 client (it would need MRTR, which this
   * bridge does not do); the upstream gets an error instead of waiting forever. A ping is
   * answered here.
   */
  function refuse(message: JsonRpcRequest, context: RequestContext): void {
    const answer: JsonRpcResponse =
      message.method === 'ping'
        ? { jsonrpc: '2.0', id: message.id, result: {} }
        : {
            jsonrpc: '2.0',
            id: message.id,
            error: { code: JSONRPC.METHOD_NOT_FOUND, message: `${message.method} cannot reach a 2026-07-28 client through this gateway` },
          };
    void Promise.resolve(upstream.receive(answer, context)).catch(() => {});
  }

  /** `subscriptions/listen`: the conversation's GET stream, acknowledged first, filtered as asked. */
  function listen(request: JsonRpcRequest, context: ConversationContext, initializeResult: InitializeResult): Reply {
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

  return {
    bind(manager) {
      bound = manager;
    },
    async handle(request, context) {
      // The session server checked `_meta` already (handle-post.ts): only read it here.
      const meta = sessionlessMetaOf(request, context.protocolVersion);
      try {
        if (context.clientSessionId === undefined && (options.withoutCorrelationId ?? 'principal') === 'request') {
          return await once(request, context, meta);
        }
        return await forward(request, context, meta, await conversation(context, meta));
      } catch (error) {
        // Caps and store faults keep their status; an upstream that failed its handshake is
        // the upstream's failure, reported like any other.
        if (isSessiongateError(error)) throw error;
        return upstreamFailure(request.id, (error as Error).message);
      }
    },
  };

  /** A request with no conversation: a fresh upstream session for it alone, ended after it. */
  async function once(request: JsonRpcRequest, context: RequestContext, meta: SessionlessMeta): Promise<Reply> {
    const port = sessions();
    const created = await port.createOnce(mintSessionId(), context.principal, {
      protocolVersion: LATEST_HANDSHAKE_REVISION,
      initialize: initializeParams(meta),
      clientSessionId: null,
    });
    if (!created) throw new Error('sessiongate: minted a duplicate session id');
    const record = await handshake(created, context);
    const end = (): void => void port.end(record.id).catch(() => {});
    let reply: Reply;
    try {
      reply = await forward(request, context, meta, record);
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

/** The context an upstream application sees for a conversation: the request's, with a session. */
class ConversationContext implements RequestContext {
  readonly #request: RequestContext;
  readonly session: SessionHandle;
  readonly protocolVersion: string;

  constructor(request: RequestContext, session: SessionHandle) {
    this.#request = request;
    this.session = session;
    this.protocolVersion = session.record.protocolVersion;
  }
  get principal(): string | null {
    return this.#request.principal;
  }
  get clientSessionId(): string | undefined {
    return this.#request.clientSessionId;
  }
  get signal(): AbortSignal {
    return this.#request.signal;
  }
  header(name: string): string | undefined {
    return this.#request.header(name);
  }
  headers(): Record<string, string | string[] | undefined> {
    return this.#request.headers();
  }
}

/** DiscoverResult from the upstream's InitializeResult. */
function discoverResult(initialize: InitializeResult): JsonObject {
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
function toSessionless(response: JsonRpcResponse, method: string, initialize: InitializeResult): JsonRpcResponse {
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

/**
 * The upstream's stream as the client may see it: log messages by the request's level, no
 * server-to-client requests (refused upstream), the response translated. `return()` reaches
 * the source at once when the client leaves.
 */
function relayed(
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
