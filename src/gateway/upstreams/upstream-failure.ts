/** @module gateway/upstreams/upstream-failure — the answer when the upstream could not give one. */
import { JSONRPC } from '../../protocol/failures.js';
import type { JsonRpcResponse, RequestId } from '../../protocol/jsonrpc.js';

/** A JSON-RPC error for the client, never a hang. */
export function upstreamFailure(id: RequestId, detail: string): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code: JSONRPC.INTERNAL_ERROR, message: `Upstream error: ${detail}` } };
}
