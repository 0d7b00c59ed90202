/**
 * @module policy/policy-errors
 * Refusals a policy answers in the JSON-RPC response itself (HTTP 200), as a tool's own error
 * would be: an MCP client hands the code and message to its caller, which an HTTP error would
 * hide behind a transport failure. A rate limit is the exception: HTTP 429 with Retry-After
 * (SG_RATE_LIMITED in protocol/failures.ts), so clients back off. docs/errors.md lists them.
 *
 * Their numbers lie outside every range reserved for someone else: JSON-RPC 2.0 keeps -32768 to
 * -32000 for itself and its implementations, and MCP 2026-07-28 keeps -32020 to -32099 for the
 * specification. Until 0.2 they were -32050 and -32051; the `SG_*` names never changed. The
 * exception is SG_CONNECTION_REQUIRED: it is the specification's own -32042
 * (URLElicitationRequiredError, 2025-11-25), which clients know how to show.
 */
import { randomBytes } from 'node:crypto';
import { errorResponse } from '../protocol/answers.js';
import type { JsonRpcResponse, RequestId } from '../protocol/jsonrpc.js';

export const POLICY_ERRORS = {
  /** A rule (or the default) denies the call; the message carries the rule's reason when it has one. */
  SG_POLICY_DENIED: { rpc: -31050, message: 'Denied by policy' },
  /** The call needs a person's approval, and it was not given (declined, timed out, or the client cannot be asked). */
  SG_APPROVAL_REQUIRED: { rpc: -31051, message: "This call needs a person's approval" },
  /** A rule `requires` servers the caller has not connected (MCP's URLElicitationRequiredError; its data names where). */
  SG_CONNECTION_REQUIRED: { rpc: -32042, message: 'This call needs your own account connected first' },
} as const;

export type PolicyErrorCode = keyof typeof POLICY_ERRORS;

/** The refusal `code` of request `id`, its message followed by `detail` when there is one. */
export function policyRefusal(id: RequestId, code: PolicyErrorCode, detail?: string): JsonRpcResponse {
  const message = detail ? `${POLICY_ERRORS[code].message}: ${detail}` : undefined;
  return errorResponse(id, code, message, undefined, POLICY_ERRORS);
}

/**
 * The refusal of a call whose rule `requires` servers the caller has not connected: MCP's
 * URLElicitationRequiredError, one URL-mode elicitation per server the gateway can connect.
 */
export function connectionRefusal(id: RequestId, missing: readonly { server: string; url: string | undefined }[]): JsonRpcResponse {
  const elicitations = missing.flatMap(({ server, url }) =>
    url === undefined
      ? []
      : [{ mode: 'url', elicitationId: randomBytes(16).toString('base64url'), url, message: `Connect ${server} to your account` }],
  );
  const names = missing.map(({ server }) => server);
  const message = `${POLICY_ERRORS.SG_CONNECTION_REQUIRED.message}: ${names.join(', ')}`;
  return errorResponse(id, 'SG_CONNECTION_REQUIRED', message, { elicitations, servers: names }, POLICY_ERRORS);
}
