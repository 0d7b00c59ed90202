/**
 * @module gateway/eras/handshake-bridge
 * Handshake-era client -> sessionless (2026-07-28) upstream. The downstream session is ours
 * (minted, expired, capped, bound as always); the upstream has none. So:
 * - `initialize` is answered from the upstream's `server/discover`;
 * - every request goes up sessionless, carrying the session's stored client capabilities and
 *   info (and the level `logging/setLevel` chose) in `_meta`, with the routing headers and the
 *   `Mcp-Param-*` headers of the tool's annotations (a client's duty we take on);
 * - an `InputRequiredResult` (MRTR, SEP-2322) becomes server-to-client requests on the call's
 *   stream, and the client's answers go back up as `inputResponses` with the `requestState`;
 * - `ping`, `logging/setLevel` and `resources/(un)subscribe`, which the revision removed, are
 *   kept in the session and answered here;
 * - the GET stream is fed by a `subscriptions/listen` upstream, reopened while it is wanted.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { SessionlessClient } from '../../client/sessionless-client.js';
import { JSONRPC } from '../../protocol/failures.js';
import {
  isObject,
  isResponse,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type JsonValue,
  type RequestId,
} from '../../protocol/jsonrpc.js';
import { META, type SessionlessMeta, withSessionlessMeta } from '../../protocol/sessionless-meta.js';
import { paramHeaderValues } from '../../protocol/param-headers.js';
import { negotiateRevision, SESSIONLESS_REVISION } from '../../protocol/revisions.js';
import type { McpApplication, RequestContext, SessionHandle } from '../../server/application.js';
import { MessageQueue } from '../../server/message-queue.js';
import { PendingReply } from '../../server/pending-reply.js';
import type { FairSlots } from '../upstreams/fair-slots.js';
import { requireSession } from '../upstreams/require-session.js';
import type { ToolHeaders } from './tool-headers.js';
import { upstreamFailure } from '../upstreams/upstream-failure.js';
import { internalRequestId } from '../../protocol/internal-ids.js';
import { stateSlot } from '../../session/state-slot.js';
import { z } from 'zod';

export interface HandshakeBridgeOptions {
  client: SessionlessClient;
  tools: ToolHeaders;
  headersFor: (context: RequestContext) => Record<string, string>;
  /** The upstream's exchanges at once, shared fairly among sessions. */
  slots: FairSlots;
  onError?: (error: unknown) => void;
}

const bridgeState = z.object({
  /** The upstream's capabilities from `server/discover`: what a listen stream may ask for. */
  capabilities: z.custom<JsonObject>(isObject),
  level: z.string().optional(),
  subscriptions: z.array(z.string()),
});
type BridgeState = z.infer<typeof bridgeState>;
/** Where the bridge keeps its part of a session, in the record's state (survives restarts). */
const BRIDGE = stateSlot('sessiongate.bridge', bridgeState);
/** Input rounds one call may take before the gateway gives up (a server looping forever). */
const MAX_INPUT_ROUNDS = 8;
const RECONNECT_MAX_MS = 30_000;

interface Link {
  state: BridgeState;
  /** Whether the client's GET stream is open on this replica (the upstream listen stream follows it). */
  streaming: boolean;
  listening: AbortController | undefined;
  /** Calls under way, by id: `notifications/cancelled` aborts one (closing its upstream stream). */
  readonly calls: Map<RequestId, AbortController>;
  /** Server-to-client requests we sent for an InputRequiredResult, awaiting the client's answer. */
  readonly awaiting: Map<RequestId, (response: JsonRpcResponse) => void>;
}

export function handshakeBridge(options: HandshakeBridgeOptions): McpApplication {
  const { client, tools, headersFor, slots } = options;
  const onError = options.onError ?? (() => {});
  const links = new Map<string, Link>();

  function linkFor(session: SessionHandle): Link {
    const existing = links.get(session.id);
    if (existing) return existing;
    const link: Link = {
      state: BRIDGE.read(session.record.state) ?? { capabilities: {}, subscriptions: [] },
      streaming: false,
      listening: undefined,
      calls: new Map(),
      awaiting: new Map(),
    };
    links.set(session.id, link);
    // The client may answer an input request, or cancel a call, through another replica.
    const release = session.port.hold(session.id, (message) => void take(link, message));
    session.port.attach(session.id, () => {
      links.delete(session.id);
      release();
      link.listening?.abort();
      for (const call of link.calls.values()) call.abort();
    });
    return link;
  }

  async function persist(session: SessionHandle, link: Link): Promise<void> {
    await session.port.writeState(session.id, BRIDGE, link.state);
  }

  function metaOf(session: SessionHandle, link: Link): SessionlessMeta {
    const init = session.record.initialize;
    return {
      protocolVersion: SESSIONLESS_REVISION,
      clientCapabilities: isObject(init['capabilities']) ? init['capabilities'] : {},
      clientInfo: isObject(init['clientInfo']) ? init['clientInfo'] : undefined,
      logLevel: link.state.level,
    };
  }

  async function initialize(request: JsonRpcRequest, context: RequestContext, session: SessionHandle): Promise<JsonRpcResponse> {
    const params = request.params ?? {};
    const meta: SessionlessMeta = {
      protocolVersion: SESSIONLESS_REVISION,
      clientCapabilities: isObject(params['capabilities']) ? params['capabilities'] : {},
      clientInfo: isObject(params['clientInfo']) ? params['clientInfo'] : undefined,
      logLevel: undefined,
    };
    const discover = { jsonrpc: '2.0' as const, id: request.id, method: 'server/discover', params: withSessionlessMeta({}, meta) };
    const response = await client.request(discover, () => {}, headersFor(context), context.signal);
    if ('error' in response) return response; // no answer, no session (the server deletes it)
    const result = response.result;
    const supported = result['supportedVersions'];
    if (!Array.isArray(supported) || !supported.includes(SESSIONLESS_REVISION)) {
      return upstreamFailure(request.id, `the upstream speaks none of the revisions this gateway bridges (${JSON.stringify(supported)})`);
    }
    const capabilities = isObject(result['capabilities']) ? result['capabilities'] : {};
    const link = linkFor(session);
    link.state = { capabilities, subscriptions: [] };
    await persist(session, link);
    const resultMeta = result['_meta'];
    const serverInfo =
      (isObject(resultMeta) && isObject(resultMeta[META.serverInfo]) ? resultMeta[META.serverInfo] : undefined) ??
      (isObject(result['serverInfo']) ? result['serverInfo'] : { name: 'sessiongate-bridge', version: '0' });
    const answer: JsonObject = {
      protocolVersion: negotiateRevision(typeof params['protocolVersion'] === 'string' ? params['protocolVersion'] : ''),
      capabilities,
      serverInfo,
    };
    if (typeof result['instructions'] === 'string') answer['instructions'] = result['instructions'];
    return { jsonrpc: '2.0', id: request.id, result: answer };
  }

  /** One call upstream, with the MRTR rounds and one retry after refreshing tool annotations. */
  function call(
    request: JsonRpcRequest,
    context: RequestContext,
    session: SessionHandle,
    link: Link,
  ): Promise<JsonRpcResponse | AsyncIterable<JsonRpcMessage>> {
    const pending = new PendingReply();
    const abort = new AbortController();
    link.calls.set(request.id, abort);
    const onClientGone = (): void => abort.abort();
    context.signal.addEventListener('abort', onClientGone, { once: true });
    const run = async (): Promise<JsonRpcResponse> => {
      let params = withSessionlessMeta(request.params, metaOf(session, link));
      const name = request.method === 'tools/call' && typeof params['name'] === 'string' ? params['name'] : undefined;
      if (name !== undefined && !tools.known) await listTools(context, session, link);
      let refreshed = false;
      for (let round = 0; ; round++) {
        const headers = { ...headersFor(context), ...(name === undefined ? {} : paramHeaderValues(params['arguments'], tools.of(name))) };
        const response = await slots.run(
          session.id,
          // The sessionless client does not wait for a slow reader: bound-and-end (docs/limits.md, "Streams").
          () => client.request({ ...request, params }, (message) => void pending.push(message), headers, abort.signal),
          abort.signal,
        );
        if ('error' in response) {
          // A HeaderMismatch on a call: the tool's annotations changed; list again, retry once.
          if (name !== undefined && response.error.code === JSONRPC.HEADER_MISMATCH && !refreshed) {
            refreshed = true;
            await listTools(context, session, link);
            continue;
          }
          return response;
        }
        const result = response.result;
        if (result['resultType'] !== 'input_required') {
          return { ...response, result: request.method === 'tools/list' ? tools.learn(toHandshake(result)) : toHandshake(result) };
        }
        if (round >= MAX_INPUT_ROUNDS) return upstreamFailure(request.id, 'the upstream asked for input too many times');
        params = { ...params, inputResponses: await askClient(result['inputRequests'], pending, link) };
        if (typeof result['requestState'] === 'string') params['requestState'] = result['requestState'];
        else delete params['requestState'];
      }
    };
    run()
      .then(
        (response) => pending.respond(response),
        (error: unknown) => pending.respond(upstreamFailure(request.id, (error as Error).message)),
      )
      .finally(() => {
        link.calls.delete(request.id);
        context.signal.removeEventListener('abort', onClientGone);
      });
    return pending.reply;
  }

  /** MRTR -> handshake era: each input request goes to the client on the call's stream. */
  async function askClient(requests: JsonValue | undefined, pending: PendingReply, link: Link): Promise<JsonObject> {
    const entries = isObject(requests) ? Object.entries(requests) : [];
    const answers = await Promise.all(
      entries.map(([key, input]) => {
        const method = isObject(input) ? input['method'] : undefined;
        if (!isObject(input) || typeof method !== 'string') throw new Error(`malformed input request "${key}"`);
        const id = internalRequestId('input');
        const answered = new Promise<JsonRpcResponse>((resolve) => link.awaiting.set(id, resolve));
        void pending.push({ jsonrpc: '2.0', id, method, ...(isObject(input['params']) ? { params: input['params'] } : {}) });
        return answered.then((response) => {
          if ('error' in response) throw new Error(`the client refused "${method}": ${response.error.message}`);
          return [key, response.result] as const;
        });
      }),
    );
    return Object.fromEntries(answers);
  }

  async function listTools(context: RequestContext, session: SessionHandle, link: Link): Promise<void> {
    const list = {
      jsonrpc: '2.0' as const,
      id: internalRequestId('tools'),
      method: 'tools/list',
      params: withSessionlessMeta({}, metaOf(session, link)),
    };
    const response = await client.request(list, () => {}, headersFor(context), context.signal);
    if ('result' in response) tools.learn(response.result);
  }

  /** (Re)opens the upstream listen stream feeding the session's GET stream, with the current filter. */
  function listen(session: SessionHandle, link: Link, context: RequestContext): void {
    link.listening?.abort();
    link.listening = undefined;
    const filter = filterFor(link.state);
    if (!link.streaming || !filter) return;
    const abort = new AbortController();
    link.listening = abort;
    const request = {
      jsonrpc: '2.0' as const,
      id: internalRequestId('listen'),
      method: 'subscriptions/listen',
      params: withSessionlessMeta({ notifications: filter }, metaOf(session, link)),
    };
    const deliver = (message: JsonRpcMessage): void => {
      if (isResponse(message) || message.method === 'notifications/subscriptions/acknowledged') return;
      void session.port.toStream(session.id, withoutSubscriptionId(message));
    };
    void (async () => {
      for (let failures = 0; !abort.signal.aborted;) {
        try {
          await client.listen(request, deliver, headersFor(context), abort.signal);
          failures = 0;
        } catch (error) {
          if (abort.signal.aborted) return;
          failures++;
          onError(error);
        }
        // Reopened after a delay that grows while the upstream keeps failing.
        await sleep(Math.min(RECONNECT_MAX_MS, 500 * 2 ** failures), abort.signal);
      }
    })();
  }

  return {
    async handle(request, context) {
      const session = requireSession(context);
      if (request.method === 'initialize') {
        // An unreachable upstream fails the initialize (and so leaves no session), never a 5xx.
        return initialize(request, context, session).catch((error: unknown) => upstreamFailure(request.id, (error as Error).message));
      }
      const link = linkFor(session);
      const ok = (result: JsonObject = {}): JsonRpcResponse => ({ jsonrpc: '2.0', id: request.id, result });
      const uri = request.params?.['uri'];
      switch (request.method) {
        case 'ping':
          return ok();
        case 'logging/setLevel':
          link.state.level = typeof request.params?.['level'] === 'string' ? request.params['level'] : undefined;
          await persist(session, link);
          return ok();
        case 'resources/subscribe':
        case 'resources/unsubscribe': {
          if (typeof uri !== 'string')
            return { jsonrpc: '2.0', id: request.id, error: { code: JSONRPC.INVALID_PARAMS, message: 'uri is required' } };
          const others = link.state.subscriptions.filter((known) => known !== uri);
          link.state.subscriptions = request.method === 'resources/subscribe' ? [...others, uri] : others;
          await persist(session, link);
          listen(session, link, context);
          return ok();
        }
        default:
          return call(request, context, session, link);
      }
    },
    async receive(message, context) {
      const session = requireSession(context);
      // What no call here waits for may be for a call on another replica.
      if (!take(linkFor(session), message)) await session.port.toHolders(session.id, message);
    },
    openStream(context) {
      const session = requireSession(context);
      const link = linkFor(session);
      // The upstream listen stream follows the client's GET stream (as in http-upstream); what
      // it carries reaches the client through session.toStream, so this source stays silent.
      link.streaming = true;
      listen(session, link, context);
      return new MessageQueue<JsonRpcMessage>(() => {
        link.streaming = false;
        link.listening?.abort();
      });
    },
  };
}

/**
 * A client's answer to an input request, or its cancellation of a call, handed to what waits
 * here for it; false when nothing here does. Other notifications have no counterpart upstream.
 */
function take(link: Link, message: JsonRpcMessage): boolean {
  if (!('method' in message)) {
    const waiting = link.awaiting.get(message.id ?? '');
    waiting?.(message);
    return waiting !== undefined;
  }
  if (message.method !== 'notifications/cancelled') return true;
  const id = message.params?.['requestId'];
  const call = typeof id === 'string' || typeof id === 'number' ? link.calls.get(id) : undefined;
  call?.abort();
  return call !== undefined;
}

/** What a listen stream asks for: the change notifications the upstream can send, if any. */
function filterFor(state: BridgeState): JsonObject | undefined {
  const caps = state.capabilities;
  const flag = (name: string): boolean => isObject(caps[name]) && caps[name]['listChanged'] === true;
  const filter: JsonObject = {};
  if (flag('tools')) filter['toolsListChanged'] = true;
  if (flag('prompts')) filter['promptsListChanged'] = true;
  if (flag('resources')) filter['resourcesListChanged'] = true;
  if (state.subscriptions.length > 0) filter['resourceSubscriptions'] = [...state.subscriptions];
  return Object.keys(filter).length > 0 ? filter : undefined;
}

/** A sessionless result as a handshake-era client expects it: without the 2026-only fields. */
function toHandshake(result: JsonObject): JsonObject {
  const { resultType: _type, ttlMs: _ttl, cacheScope: _scope, ...rest } = result;
  const meta = rest['_meta'];
  if (isObject(meta) && META.serverInfo in meta) {
    const { [META.serverInfo]: _info, ...kept } = meta;
    if (Object.keys(kept).length > 0) rest['_meta'] = kept;
    else delete rest['_meta'];
  }
  return rest;
}

function withoutSubscriptionId(message: JsonRpcMessage): JsonRpcMessage {
  if (!('method' in message) || !isObject(message.params?.['_meta'])) return message;
  const { [META.subscriptionId]: _id, ...meta } = message.params['_meta'];
  const { _meta: _dropped, ...params } = message.params;
  return { ...message, params: Object.keys(meta).length > 0 ? { ...params, _meta: meta } : params };
}

/** Waits `ms`, or less when `signal` aborts (then resolves too: the caller's loop checks the signal). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => {});
}
