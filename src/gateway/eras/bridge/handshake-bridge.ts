/**
 * @module gateway/eras/bridge/handshake-bridge
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
import { errorResponse } from '../../../protocol/answers.js';
import type { SessionlessClient } from '../../../client/sessionless-client.js';
import {
  isObject,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type JsonValue,
} from '../../../protocol/jsonrpc.js';
import { META, type SessionlessMeta, withSessionlessMeta } from '../../../protocol/sessionless-meta.js';
import { negotiateRevision, SESSIONLESS_REVISION } from '../../../protocol/revisions.js';
import { type McpApplication, type Reply, type RequestContext, type SessionHandle, plainApplication } from '../../../server/application.js';
import { MessageQueue } from '../../../server/message-queue.js';
import type { FairSlots } from '../../upstreams/fair-slots.js';
import { requireSession } from '../../upstreams/require-session.js';
import { upstreamFailure } from '../../upstreams/upstream-failure.js';
import { bridgeCall } from './bridge-call.js';
import { BridgeLink, type BridgeUpstream } from './bridge-link.js';
import type { ToolHeaders } from '../tool-headers.js';

export interface HandshakeBridgeOptions {
  client: SessionlessClient;
  tools: ToolHeaders;
  headersFor: (context: RequestContext) => Record<string, string>;
  /** The upstream's exchanges at once, shared fairly among sessions. */
  slots: FairSlots;
  onError?: (error: unknown) => void;
}

export function handshakeBridge(options: HandshakeBridgeOptions): McpApplication {
  return plainApplication(new HandshakeBridge({ ...options, onError: options.onError ?? (() => {}) }));
}

class HandshakeBridge implements McpApplication {
  readonly #upstream: BridgeUpstream;
  readonly #links = new Map<string, BridgeLink>();

  constructor(upstream: BridgeUpstream) {
    this.#upstream = upstream;
  }

  async handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply> {
    const session = requireSession(context);
    if (request.method === 'initialize') {
      // An unreachable upstream fails the initialize (and so leaves no session), never a 5xx.
      return this.#initialize(request, context, session).catch((error: unknown) => upstreamFailure(request.id, (error as Error).message));
    }
    const link = this.#linkFor(session);
    const ok: JsonRpcResponse = { jsonrpc: '2.0', id: request.id, result: {} };
    const uri = request.params?.['uri'];
    switch (request.method) {
      case 'ping':
        return ok;
      case 'logging/setLevel':
        await link.setLevel(typeof request.params?.['level'] === 'string' ? request.params['level'] : undefined);
        return ok;
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        if (typeof uri !== 'string') return errorResponse(request.id, 'SG_BAD_PARAMS', 'Invalid params: uri is required');
        await link.subscribe(session, context, uri, request.method === 'resources/subscribe');
        return ok;
      default:
        return bridgeCall(this.#upstream, link, session, request, context);
    }
  }

  async receive(message: JsonRpcMessage, context: RequestContext): Promise<void> {
    const session = requireSession(context);
    // What no call here waits for may be for a call on another replica.
    if (!this.#linkFor(session).take(message)) await session.port.toHolders(session.id, message);
  }

  openStream(context: RequestContext): MessageQueue<JsonRpcMessage> {
    const session = requireSession(context);
    const link = this.#linkFor(session);
    // The upstream listen stream follows the client's GET stream (as in http-upstream); what
    // it carries reaches the client through the port's toStream, so this source stays silent.
    link.startStreaming(session, context);
    return new MessageQueue(() => link.stopStreaming());
  }

  #linkFor(session: SessionHandle): BridgeLink {
    const existing = this.#links.get(session.id);
    if (existing) return existing;
    const link = new BridgeLink(session, this.#upstream);
    this.#links.set(session.id, link);
    // The client may answer an input request, or cancel a call, through another replica.
    const release = session.port.hold(session.id, (message) => void link.take(message));
    session.port.attach(session.id, () => {
      this.#links.delete(session.id);
      release();
      link.end();
    });
    return link;
  }

  /** `initialize` answered from the upstream's `server/discover` (it has no handshake). */
  async #initialize(request: JsonRpcRequest, context: RequestContext, session: SessionHandle): Promise<JsonRpcResponse> {
    const params = request.params ?? {};
    const meta: SessionlessMeta = {
      protocolVersion: SESSIONLESS_REVISION,
      clientCapabilities: isObject(params['capabilities']) ? params['capabilities'] : {},
      clientInfo: isObject(params['clientInfo']) ? params['clientInfo'] : undefined,
      logLevel: undefined,
    };
    const discover = { jsonrpc: '2.0' as const, id: request.id, method: 'server/discover', params: withSessionlessMeta({}, meta) };
    const { client, headersFor } = this.#upstream;
    const response = await client.request(discover, () => {}, headersFor(context), context.signal);
    if ('error' in response) return response; // no answer, no session (the server deletes it)
    const result = response.result;
    const supported = result['supportedVersions'];
    if (!Array.isArray(supported) || !supported.includes(SESSIONLESS_REVISION)) {
      return upstreamFailure(request.id, `the upstream speaks none of the revisions this gateway bridges (${JSON.stringify(supported)})`);
    }
    const capabilities = isObject(result['capabilities']) ? result['capabilities'] : {};
    await this.#linkFor(session).begin(capabilities);
    const answer: JsonObject = {
      protocolVersion: negotiateRevision(typeof params['protocolVersion'] === 'string' ? params['protocolVersion'] : ''),
      capabilities,
      serverInfo: serverInfoOf(result),
    };
    if (typeof result['instructions'] === 'string') answer['instructions'] = result['instructions'];
    return { jsonrpc: '2.0', id: request.id, result: answer };
  }
}

/** The upstream's identity: from the discover result's `_meta`, else its `serverInfo`, else a placeholder. */
function serverInfoOf(result: JsonObject): JsonValue {
  const meta = result['_meta'];
  const info = isObject(meta) ? meta[META.serverInfo] : undefined;
  if (isObject(info)) return info;
  return isObject(result['serverInfo']) ? result['serverInfo'] : { name: 'sessiongate-bridge', version: '0' };
}
