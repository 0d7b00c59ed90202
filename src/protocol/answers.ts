/**
 * @module protocol/answers
 * Failures answered inside a JSON-RPC response (HTTP 200, or an SSE event) rather than with an
 * HTTP status: the request got past the transport and its caller is told as a tool's own error
 * would tell it (docs/errors.md, "Answers the server gives in place of the application's").
 * Each under a stable code in `error.data.code`; the registry beside FAILURES (failures.ts,
 * which picks HTTP statuses), and `errorResponse`, the one builder of a JSON-RPC error answer
 * (the policy's refusals use it with their own registry, policy/policy-errors.ts).
 */
import { JSONRPC } from './failures.js';
import type { JsonObject, JsonRpcResponse, RequestId } from './jsonrpc.js';

/** A JSON-RPC error: its number and the message it has unless a detail replaces it. */
export interface AnswerSpec {
  readonly rpc: number;
  readonly message: string;
}

/** The registry. Adding an answer means adding a row here (a test checks each is documented with its number). */
export const ANSWERS = {
  /** No answer and no message of its stream for `requestTimeoutMs` (the code MCP's SDKs use). */
  SG_REQUEST_TIMEOUT: { rpc: -32001, message: 'Request timed out' },
  SG_SESSION_ENDED: { rpc: JSONRPC.BAD_REQUEST, message: 'The session ended while the request was in flight' },
  SG_SHUTTING_DOWN: { rpc: JSONRPC.INTERNAL_ERROR, message: 'The server is shutting down' },
  SG_REQUEST_CANCELLED: { rpc: JSONRPC.REQUEST_CANCELLED, message: 'The request was cancelled' },
  SG_REQUEST_LOST: {
    rpc: JSONRPC.INTERNAL_ERROR,
    message: 'The server running this request stopped before answering it; it may or may not have completed',
  },
  /** The gateway's upstream could not answer; the detail names the cause, never the address. */
  SG_UPSTREAM_UNAVAILABLE: { rpc: JSONRPC.INTERNAL_ERROR, message: 'Upstream error' },
  /** A method nothing behind the gateway serves (a federation), or one that cannot cross between eras. */
  SG_NO_ROUTE: { rpc: JSONRPC.METHOD_NOT_FOUND, message: 'Method not found' },
  /** Params the gateway itself must read are wrong (a name no server has, a foreign cursor, a missing URI). */
  SG_BAD_PARAMS: { rpc: JSONRPC.INVALID_PARAMS, message: 'Invalid params' },
  /**
   * The caller has not connected the upstream with their own credentials (docs/CREDENTIALS.md):
   * MCP's URLElicitationRequiredError (2025-11-25), its data naming the page that connects it.
   */
  SG_CONNECTION_REQUIRED: { rpc: -32042, message: 'This server acts with your own account there: connect it first' },
  /** The caller's credentials for the upstream could not be renewed just now (its authorization server did not answer). */
  SG_CREDENTIALS_UNAVAILABLE: {
    rpc: JSONRPC.INTERNAL_ERROR,
    message: 'Your credentials for this server could not be renewed; try again shortly',
  },
  /** A call gives another value for an argument the gateway's curation fixes (docs/CURATION.md, "Arguments"). */
  SG_ARGUMENT_FIXED: { rpc: JSONRPC.INVALID_PARAMS, message: 'Invalid params: an argument is set by the gateway' },
  /** A pinned tool whose definition changed (or that appeared later) waits for an operator (docs/CURATION.md, "Pinning"). */
  SG_TOOL_WITHHELD: {
    rpc: JSONRPC.INVALID_PARAMS,
    message: 'Invalid params: the tool is withheld until an operator accepts its definition',
  },
  /** A resource URI no federated server claims (MCP's -32002). */
  SG_RESOURCE_NOT_FOUND: { rpc: -32002, message: 'Resource not found' },
} as const satisfies Record<string, AnswerSpec>;

export type AnswerCode = keyof typeof ANSWERS;

/** The error answer `code` of a registry (ANSWERS by default) for request `id`; `detail` replaces the message. */
export function errorResponse<Code extends string>(
  id: RequestId | null,
  code: Code,
  detail?: string,
  data?: JsonObject,
  registry: Readonly<Record<Code, AnswerSpec>> = ANSWERS as unknown as Record<Code, AnswerSpec>,
): JsonRpcResponse {
  const spec = registry[code];
  return { jsonrpc: '2.0', id, error: { code: spec.rpc, message: detail ?? spec.message, data: { ...data, code } } };
}

/** Whether an error answer carries `code` (by its code, never its words). */
export function answerCodeOf(error: { data?: unknown }): string | undefined {
  const data = error.data;
  const code = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['code'] : undefined;
  return typeof code === 'string' ? code : undefined;
}
