/** @module gateway/federation/rpc-error — a JSON-RPC error answer the federation gives itself (HTTP 200: the request was well formed). */
import type { JsonObject, JsonRpcResponse } from '../../protocol/jsonrpc.js';

export function rpcError(id: JsonRpcResponse['id'], code: number, message: string, data?: JsonObject): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data ? { data } : {}) } };
}
