/** @module gateway/upstreams/upstream-failure — the answer when the upstream could not give one. */
import { JSONRPC } from '../../protocol/failures.js';
import type { JsonRpcResponse, RequestId } from '../../protocol/jsonrpc.js';

/** The stable code of an answer the gateway made because the upstream gave none (docs/errors.md). */
export const UPSTREAM_UNAVAILABLE = 'SG_UPSTREAM_UNAVAILABLE';

/** A JSON-RPC error for the client, never a hang. */
export function upstreamFailure(id: RequestId | null, detail: string, data: Record<string, string> = {}): JsonRpcResponse {
  return {
    jsonrpc: '2.0',
    id,
    error: { code: JSONRPC.INTERNAL_ERROR, message: `Upstream error: ${detail}`, data: { code: UPSTREAM_UNAVAILABLE, ...data } },
  };
}

/** Whether an error is one `upstreamFailure` made (by its code, not its words). */
export function isUpstreamFailure(error: { code: number; data?: unknown }): boolean {
  const data = error.data;
  return (
    error.code === JSONRPC.INTERNAL_ERROR &&
    typeof data === 'object' &&
    data !== null &&
    (data as Record<string, unknown>)['code'] === UPSTREAM_UNAVAILABLE
  );
}
