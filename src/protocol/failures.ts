/**
 * @module protocol/failures
 * Every failure Sessiongate can answer with, each under a stable `code`, and the one function
 * that turns a failure into an HTTP status plus a JSON-RPC error. Nothing else in the codebase
 * picks a status code for an error.
 *
 * Status codes are the contract (docs/PROTOCOL.md, section 1); JSON-RPC codes follow the TypeScript SDK
 * where it has one (`-32001` session not found, `-32000` transport-level bad request).
 */

export const JSONRPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** TS SDK: transport-level bad request (missing session id, bad version header). */
  BAD_REQUEST: -32000,
  /** TS SDK: session not found. */
  SESSION_NOT_FOUND: -32001,
  /** LSP's RequestCancelled, as the SDKs use it: the request was cancelled before its answer. */
  REQUEST_CANCELLED: -32800,
  /** 2026-07-28: `MCP-Protocol-Version` header does not match `_meta`. */
  HEADER_MISMATCH: -32020,
  /** 2026-07-28: the request needs a client capability its `_meta` did not declare. */
  MISSING_CLIENT_CAPABILITY: -32021,
  /** 2026-07-28: unsupported protocol version. */
  UNSUPPORTED_VERSION: -32022,
} as const;

interface FailureSpec {
  readonly status: number;
  readonly rpc: number;
  readonly message: string;
}

/** The registry. Adding a failure means adding a row here (a test checks each is documented). */
export const FAILURES = {
  SG_BODY_TOO_LARGE: { status: 413, rpc: JSONRPC.INVALID_REQUEST, message: 'Request body too large' },
  SG_PARSE_ERROR: { status: 400, rpc: JSONRPC.PARSE_ERROR, message: 'Parse error: body is not valid JSON' },
  SG_INVALID_REQUEST: { status: 400, rpc: JSONRPC.INVALID_REQUEST, message: 'Invalid JSON-RPC message' },
  SG_INVALID_PARAMS: { status: 400, rpc: JSONRPC.INVALID_PARAMS, message: 'Invalid params' },
  SG_INITIALIZE_TOO_LARGE: {
    status: 413,
    rpc: JSONRPC.INVALID_PARAMS,
    message: 'initialize params over 64 KiB are not kept for a session (capabilities, client info and the rest together)',
  },
  SG_BATCH_NOT_ALLOWED: { status: 400, rpc: JSONRPC.INVALID_REQUEST, message: 'JSON-RPC batches are allowed only in protocol 2025-03-26' },
  SG_INVALID_CLIENT_SESSION_ID: {
    status: 400,
    rpc: JSONRPC.BAD_REQUEST,
    message: 'Bad Request: Mcp-Client-Session-Id must be 1 to 128 visible ASCII characters',
  },
  SG_SESSION_ID_MISSING: { status: 400, rpc: JSONRPC.BAD_REQUEST, message: 'Bad Request: MCP-Session-Id header is required' },
  SG_SESSION_NOT_FOUND: { status: 404, rpc: JSONRPC.SESSION_NOT_FOUND, message: 'Session not found' },
  SG_ALREADY_INITIALIZED: { status: 400, rpc: JSONRPC.INVALID_REQUEST, message: 'Session is already initialized' },
  SG_UNSUPPORTED_PROTOCOL_VERSION: { status: 400, rpc: JSONRPC.BAD_REQUEST, message: 'Unsupported MCP-Protocol-Version' },
  SG_SESSIONLESS_UNSUPPORTED_VERSION: { status: 400, rpc: JSONRPC.UNSUPPORTED_VERSION, message: 'Unsupported protocol version' },
  SG_PROTOCOL_VERSION_MISMATCH: {
    status: 400,
    rpc: JSONRPC.HEADER_MISMATCH,
    message: 'MCP-Protocol-Version header does not match the request',
  },
  SG_HEADER_MISMATCH: { status: 400, rpc: JSONRPC.HEADER_MISMATCH, message: 'Header mismatch' },
  /** 2026-07-28 Streamable HTTP: an unknown (or removed) method is 404 with -32601. */
  SG_METHOD_NOT_FOUND: { status: 404, rpc: JSONRPC.METHOD_NOT_FOUND, message: 'Method not found' },
  SG_UNAUTHENTICATED: { status: 401, rpc: JSONRPC.BAD_REQUEST, message: 'Unauthorized' },
  SG_INVALID_TOKEN: { status: 401, rpc: JSONRPC.BAD_REQUEST, message: 'Unauthorized: the bearer token is not accepted' },
  SG_INSUFFICIENT_SCOPE: { status: 403, rpc: JSONRPC.BAD_REQUEST, message: 'Forbidden: the token lacks a required scope' },
  SG_UPSTREAM_TOKEN_REFUSED: {
    status: 403,
    rpc: JSONRPC.BAD_REQUEST,
    message: "Forbidden: the authorization server would not exchange the caller's token for the upstream",
  },
  SG_HOST_FORBIDDEN: { status: 403, rpc: JSONRPC.BAD_REQUEST, message: 'Forbidden: Host not allowed' },
  SG_ORIGIN_FORBIDDEN: { status: 403, rpc: JSONRPC.BAD_REQUEST, message: 'Forbidden: Origin not allowed' },
  SG_ENDPOINT_NOT_FOUND: { status: 404, rpc: JSONRPC.BAD_REQUEST, message: 'Not Found' },
  SG_METHOD_NOT_ALLOWED: { status: 405, rpc: JSONRPC.BAD_REQUEST, message: 'Method Not Allowed' },
  SG_NOT_ACCEPTABLE: {
    status: 406,
    rpc: JSONRPC.BAD_REQUEST,
    message: 'Not Acceptable: Accept must allow application/json and text/event-stream',
  },
  SG_STREAM_CONFLICT: { status: 409, rpc: JSONRPC.BAD_REQUEST, message: 'Conflict: this session already has an open GET stream' },
  SG_REQUEST_ID_IN_USE: {
    status: 409,
    rpc: JSONRPC.INVALID_REQUEST,
    message: 'Conflict: a request with this id is still in flight in this session',
  },
  SG_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    rpc: JSONRPC.BAD_REQUEST,
    message: 'Unsupported Media Type: Content-Type must be application/json',
  },
  SG_RATE_LIMITED: { status: 429, rpc: JSONRPC.BAD_REQUEST, message: "Too many requests: a policy rule's rate limit" },
  SG_TOO_MANY_REQUESTS: { status: 429, rpc: JSONRPC.BAD_REQUEST, message: 'Too many requests in flight' },
  SG_SESSION_LIMIT: { status: 503, rpc: JSONRPC.BAD_REQUEST, message: 'Service Unavailable: too many live sessions' },
  SG_STORE_UNAVAILABLE: { status: 503, rpc: JSONRPC.INTERNAL_ERROR, message: 'Service Unavailable: session store unreachable' },
  SG_AUTH_UNAVAILABLE: {
    status: 503,
    rpc: JSONRPC.INTERNAL_ERROR,
    message: 'Service Unavailable: the authorization server cannot be reached',
  },
  SG_INTERNAL: { status: 500, rpc: JSONRPC.INTERNAL_ERROR, message: 'Internal error' },
} as const satisfies Record<string, FailureSpec>;

export type FailureCode = keyof typeof FAILURES;

/** The root error of Sessiongate: match on `code`, never on `instanceof` across bundles. */
export class SessiongateError extends Error {
  override readonly name = 'SessiongateError';
  readonly code: FailureCode;
  /** Extra response headers this failure needs (`Allow`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON-RPC id of the request that failed, when known. */
  readonly requestId: string | number | null;
  /** Extra fields for the JSON-RPC error's `data` (e.g. `requested`/`supported` for -32022). */
  readonly data: Readonly<Record<string, unknown>>;

  constructor(
    code: FailureCode,
    detail?: string,
    extra: { headers?: Record<string, string>; requestId?: string | number | null; data?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(detail ?? FAILURES[code].message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.headers = extra.headers ?? {};
    this.requestId = extra.requestId ?? null;
    this.data = extra.data ?? {};
  }
}

export function isSessiongateError(value: unknown): value is SessiongateError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'SessiongateError' &&
    typeof (value as { code?: unknown }).code === 'string' &&
    (value as { code: string }).code in FAILURES
  );
}

/** The same failure, answered under the JSON-RPC id of the request it refused. */
export function withRequestId(error: unknown, requestId: string | number | undefined): unknown {
  if (requestId === undefined || !isSessiongateError(error) || error.requestId !== null) return error;
  return new SessiongateError(error.code, error.message, {
    headers: { ...error.headers },
    requestId,
    data: { ...error.data },
    cause: error.cause,
  });
}

export interface FailureAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** A JSON-RPC error response, serialized. */
  readonly body: string;
  readonly code: FailureCode;
}

/**
 * THE mapping from a failure to what goes on the wire. Unknown errors become 500/-32603 with a
 * generic message: internals and secrets never reach the client.
 */
export function failureAnswer(error: unknown): FailureAnswer {
  const known = isSessiongateError(error) ? error : undefined;
  const code: FailureCode = known?.code ?? 'SG_INTERNAL';
  const spec = FAILURES[code];
  const message = known ? known.message : spec.message;
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: known?.requestId ?? null,
    error: { code: spec.rpc, message, data: { ...known?.data, code } },
  });
  return { status: spec.status, headers: known?.headers ?? {}, body, code };
}
