/**
 * @module gateway/eras/bridge/bridge-call
 * One handshake-era call through the bridge to the sessionless upstream: sent with the
 * session's `_meta` and the `Mcp-Param-*` headers of the tool's annotations; an
 * `InputRequiredResult` (MRTR, SEP-2322) becomes server-to-client requests on the call's stream,
 * whose answers go back up as `inputResponses`; a HeaderMismatch refreshes the annotations and
 * retries once.
 */
import { JSONRPC } from '../../../protocol/failures.js';
import { internalRequestId } from '../../../protocol/internal-ids.js';
import { isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse, type JsonValue } from '../../../protocol/jsonrpc.js';
import { paramHeaderValues } from '../../../protocol/param-headers.js';
import { META, withSessionlessMeta } from '../../../protocol/sessionless-meta.js';
import type { Reply, RequestContext, SessionHandle } from '../../../server/application.js';
import { PendingReply } from '../../../server/pending-reply.js';
import { upstreamFailure } from '../../upstreams/upstream-failure.js';
import type { BridgeLink, BridgeUpstream } from './bridge-link.js';

/** Input rounds one call may take before the gateway gives up (a server looping forever). */
const MAX_INPUT_ROUNDS = 8;

/** Everything one call needs: the upstream, the session and its link, the downstream request. */
interface Call {
  upstream: BridgeUpstream;
  link: BridgeLink;
  session: SessionHandle;
  request: JsonRpcRequest;
  context: RequestContext;
  /** The call's stream to the client. */
  pending: PendingReply;
  /** Aborted by the client's cancellation, its going away, or the session's end. */
  signal: AbortSignal;
}

export function bridgeCall(
  upstream: BridgeUpstream,
  link: BridgeLink,
  session: SessionHandle,
  request: JsonRpcRequest,
  context: RequestContext,
): Promise<Reply> {
  const pending = new PendingReply();
  const abort = link.track(request.id);
  const onClientGone = (): void => abort.abort();
  context.signal.addEventListener('abort', onClientGone, { once: true });
  run({ upstream, link, session, request, context, pending, signal: abort.signal })
    .then(
      (response) => pending.respond(response),
      (error: unknown) => pending.respond(upstreamFailure(request.id, (error as Error).message)),
    )
    .finally(() => {
      link.settled(request.id);
      context.signal.removeEventListener('abort', onClientGone);
    });
  return pending.reply;
}

async function run(call: Call): Promise<JsonRpcResponse> {
  const { upstream, link, session, request, context, pending, signal } = call;
  const { client, tools, headersFor, slots } = upstream;
  let params = withSessionlessMeta(request.params, link.meta(session));
  const name = request.method === 'tools/call' && typeof params['name'] === 'string' ? params['name'] : undefined;
  if (name !== undefined && !tools.known) await listTools(call);
  let refreshed = false;
  for (let round = 0; ; round++) {
    const headers = { ...headersFor(context), ...(name === undefined ? {} : paramHeaderValues(params['arguments'], tools.of(name))) };
    const response = await slots.run(
      session.id,
      // The sessionless client does not wait for a slow reader: bound-and-end (docs/limits.md, "Streams").
      () => client.request({ ...request, params }, (message) => void pending.push(message), headers, signal),
      signal,
      session.record.principal,
    );
    if ('error' in response) {
      // A HeaderMismatch on a call: the tool's annotations changed; list again, retry once.
      if (name !== undefined && response.error.code === JSONRPC.HEADER_MISMATCH && !refreshed) {
        refreshed = true;
        await listTools(call);
        continue;
      }
      return response;
    }
    const result = response.result;
    if (result['resultType'] !== 'input_required') {
      return { ...response, result: request.method === 'tools/list' ? tools.learn(toHandshake(result)) : toHandshake(result) };
    }
    if (round >= MAX_INPUT_ROUNDS) return upstreamFailure(request.id, 'the upstream asked for input too many times');
    params = { ...params, inputResponses: await askClient(call, result['inputRequests']) };
    if (typeof result['requestState'] === 'string') params['requestState'] = result['requestState'];
    else delete params['requestState'];
  }
}

/** MRTR -> handshake era: each input request goes to the client on the call's stream. */
async function askClient(call: Call, requests: JsonValue | undefined): Promise<JsonObject> {
  const entries = isObject(requests) ? Object.entries(requests) : [];
  const answers = await Promise.all(
    entries.map(([key, input]) => {
      const method = isObject(input) ? input['method'] : undefined;
      if (!isObject(input) || typeof method !== 'string') throw new Error(`malformed input request "${key}"`);
      const id = internalRequestId('input');
      const answered = call.link.answerTo(id);
      void call.pending.push({ jsonrpc: '2.0', id, method, ...(isObject(input['params']) ? { params: input['params'] } : {}) });
      return answered.then((response) => {
        if ('error' in response) throw new Error(`the client refused "${method}": ${response.error.message}`);
        return [key, response.result] as const;
      });
    }),
  );
  return Object.fromEntries(answers);
}

/** Learns the tools' header annotations (before the first call, and after a HeaderMismatch). */
async function listTools({ upstream, link, session, context }: Call): Promise<void> {
  const list = {
    jsonrpc: '2.0' as const,
    id: internalRequestId('tools'),
    method: 'tools/list',
    params: withSessionlessMeta({}, link.meta(session)),
  };
  const response = await upstream.client.request(list, () => {}, upstream.headersFor(context), context.signal);
  if ('result' in response) upstream.tools.learn(response.result);
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
