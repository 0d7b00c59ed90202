/** @module gateway/upstreams/upstream-failure — the answer when the upstream could not give one (protocol/answers.ts). */
import { answerCodeOf, errorResponse } from '../../protocol/answers.js';
import { JSONRPC } from '../../protocol/failures.js';
import type { JsonRpcResponse, RequestId } from '../../protocol/jsonrpc.js';

/** The stable code of an answer the gateway made because the upstream gave none (docs/errors.md). */
export const UPSTREAM_UNAVAILABLE = 'SG_UPSTREAM_UNAVAILABLE';

/** A JSON-RPC error for the client, never a hang: "Upstream error: " and the cause. */
export function upstreamFailure(id: RequestId | null, detail: string, data: Record<string, string> = {}): JsonRpcResponse {
  return errorResponse(id, UPSTREAM_UNAVAILABLE, `Upstream error: ${detail}`, data);
}

/** Whether an error is one `upstreamFailure` made (by its code, not its words). */
export function isUpstreamFailure(error: { code: number; data?: unknown }): boolean {
  return error.code === JSONRPC.INTERNAL_ERROR && answerCodeOf(error) === UPSTREAM_UNAVAILABLE;
}
