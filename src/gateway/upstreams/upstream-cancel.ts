/**
 * @module gateway/upstreams/upstream-cancel — what an upstream is told when a request it holds ended at the
 * gateway first (its deadline, its session's end, its client gone; docs/limits.md, "Requests").
 */
import { cancelledNotification } from '../../protocol/cancelled.js';
import type { JsonRpcNotification, RequestId } from '../../protocol/jsonrpc.js';

export function upstreamCancel(id: RequestId): JsonRpcNotification {
  return cancelledNotification(id, 'the request ended at the gateway');
}
