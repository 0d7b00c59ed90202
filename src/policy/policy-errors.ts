/**
 * @module policy/policy-errors
 * Refusals a policy answers in the JSON-RPC response itself (HTTP 200), as a tool's own error
 * would be: an MCP client hands the code and message to its caller, which an HTTP error would
 * hide behind a transport failure. A rate limit is the exception: HTTP 429 with Retry-After
 * (SG_RATE_LIMITED in protocol/failures.ts), so clients back off. docs/errors.md lists them.
 *
 * Their numbers lie outside every range reserved for someone else: JSON-RPC 2.0 keeps -32768 to
 * -32000 for itself and its implementations, and MCP 2026-07-28 keeps -32020 to -32099 for the
 * specification. Until 0.2 they were -32050 and -32051; the `SG_*` names never changed.
 */
import { errorResponse } from '../protocol/answers.js';
import type { JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';

export const POLICY_ERRORS = {
  /** A rule (or the default) denies the call; the message carries the rule's reason when it has one. */
  SG_POLICY_DENIED: { rpc: -31050, message: 'Denied by policy' },
  /** The call needs a person's approval, and it was not given (declined, timed out, or the client cannot be asked). */
  SG_APPROVAL_REQUIRED: { rpc: -31051, message: "This call needs a person's approval" },
} as const;

export type PolicyErrorCode = keyof typeof POLICY_ERRORS;

/** The refusal `code` of request `id`, its message followed by `detail` when there is one. */
export function policyRefusal(id: RequestId, code: PolicyErrorCode, detail?: string): JsonRpcResponse {
  const message = detail ? `${POLICY_ERRORS[code].message}: ${detail}` : undefined;
  return errorResponse(id, code, message, undefined, POLICY_ERRORS);
}
