/**
 * @module protocol/cancelled — the cancellation notification MCP defines (`notifications/cancelled`),
 * built in one place for every side that sends one.
 */
import type { JsonRpcNotification, RequestId } from './jsonrpc.js';

export function cancelledNotification(requestId: RequestId, reason: string): JsonRpcNotification {
  return { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } };
}
