/**
 * @module protocol/request-hygiene
 * What a request means is settled once, before anything decides on it (docs/SECURITY.md): a
 * resource URI in its normal form (resource-uri.ts), the form every later step (policy, the
 * audit, a federation's routing) and the upstream see; and nothing of a client's in the `_meta`
 * key the gateway owns, where a stdio server learns who called (`IDENTITY_META_KEY`), so a
 * client cannot pose as anybody there.
 */
import { SessiongateError } from './failures.js';
import { isObject, type JsonObject, type JsonRpcMessage, type JsonRpcRequest } from './jsonrpc.js';
import { isUriTemplate, normalizeResourceUri } from './resource-uri.js';

/** Where a stdio server finds the verified caller on every request (docs/AUTH.md): only the gateway writes it. */
export const IDENTITY_META_KEY = 'dev.sessiongate/identity';

/** Methods whose `params.uri` names a resource. */
const RESOURCE_METHODS: ReadonlySet<string> = new Set(['resources/read', 'resources/subscribe', 'resources/unsubscribe']);

/**
 * The request as it will be acted on: the same object when nothing changes (the common call),
 * else a copy. Throws 400 / -32602 (SG_INVALID_PARAMS) for a resource URI with no normal form.
 */
export function normalizedRequest(request: JsonRpcRequest): JsonRpcRequest {
  const params = request.params;
  if (params === undefined) return request;
  let changed: JsonObject | undefined;
  if (RESOURCE_METHODS.has(request.method) && typeof params['uri'] === 'string') {
    const uri = normalUri(params['uri'], request);
    if (uri !== params['uri']) changed = { ...params, uri };
  } else if (request.method === 'completion/complete' && isObject(params['ref']) && params['ref']['type'] === 'ref/resource') {
    const ref = params['ref'];
    const given = ref['uri'];
    if (typeof given === 'string' && !isUriTemplate(given)) {
      const uri = normalUri(given, request);
      if (uri !== given) changed = { ...params, ref: { ...ref, uri } };
    }
  }
  const meta = (changed ?? params)['_meta'];
  if (isObject(meta) && IDENTITY_META_KEY in meta) changed = { ...(changed ?? params), _meta: withoutIdentity(meta) };
  return changed ? { ...request, params: changed } : request;
}

/** A notification or response from a client without the gateway's identity key in its `_meta`. */
export function withoutForgedIdentity<M extends JsonRpcMessage>(message: M): M {
  const holder = 'params' in message ? message.params : 'result' in message ? message.result : undefined;
  const meta = holder?.['_meta'];
  if (!isObject(meta) || !(IDENTITY_META_KEY in meta)) return message;
  const cleaned = { ...holder, _meta: withoutIdentity(meta) };
  return 'params' in message ? { ...message, params: cleaned } : { ...message, result: cleaned };
}

function withoutIdentity(meta: JsonObject): JsonObject {
  const { [IDENTITY_META_KEY]: _, ...rest } = meta;
  return rest;
}

function normalUri(uri: string, request: JsonRpcRequest): string {
  const normal = normalizeResourceUri(uri);
  if ('uri' in normal) return normal.uri;
  throw new SessiongateError('SG_INVALID_PARAMS', `Invalid params: the resource URI is refused: ${normal.refused}`, {
    requestId: request.id,
  });
}
