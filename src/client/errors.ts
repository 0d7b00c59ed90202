/**
 * @module client/errors
 * Errors the client raises, each with a stable `code`. Messages never carry the session id or
 * credentials (C7).
 */

export const CLIENT_ERRORS = {
  /** C4: the session expired (404 on a request that carried an id) and was not recovered. */
  SG_CLIENT_SESSION_EXPIRED: 'Session expired and could not be re-established',
  /** 404 on a request without a session id: an ordinary not-found, not an expiry. */
  SG_CLIENT_NOT_FOUND: 'Not found',
  /** Any other non-2xx answer. */
  SG_CLIENT_HTTP_STATUS: 'Unexpected HTTP status',
  /** The connection failed or dropped before the answer: never retried blindly. */
  SG_CLIENT_CONNECTION: 'Connection failed before the answer arrived',
  /** The answer was not a usable MCP response (bad content type, bad JSON, no response). */
  SG_CLIENT_PROTOCOL: 'Malformed answer from the server',
  /** The transport was closed. */
  SG_CLIENT_CLOSED: 'Transport closed',
  /** A JSON-RPC error answered the request (standalone client API). */
  SG_CLIENT_RPC_ERROR: 'The server answered with a JSON-RPC error',
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

export class SessionClientError extends Error {
  override name = 'SessionClientError';
  readonly code: ClientErrorCode;
  /** HTTP status, when the error came with one. */
  readonly status: number | undefined;
  /** JSON-RPC error code and data, for SG_CLIENT_RPC_ERROR. */
  readonly rpc: { code: number; data?: unknown } | undefined;
  /** The `WWW-Authenticate` challenge of a 401 or 403 (names where to get a token; no secret). */
  readonly challenge: string | undefined;

  constructor(
    code: ClientErrorCode,
    detail?: string,
    extra: { status?: number; rpc?: { code: number; data?: unknown }; challenge?: string | undefined; cause?: unknown } = {},
  ) {
    super(
      detail ? `${CLIENT_ERRORS[code]}: ${detail}` : CLIENT_ERRORS[code],
      extra.cause === undefined ? undefined : { cause: extra.cause },
    );
    this.code = code;
    this.status = extra.status;
    this.rpc = extra.rpc;
    this.challenge = extra.challenge;
  }
}

/** The error the caller sees when a session is gone for good (recovery off or failed). */
export class SessionExpiredError extends SessionClientError {
  override name = 'SessionExpiredError';
  constructor(detail?: string, cause?: unknown) {
    super('SG_CLIENT_SESSION_EXPIRED', detail, { status: 404, cause });
  }
}
