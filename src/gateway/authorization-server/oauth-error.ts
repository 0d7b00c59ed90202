/**
 * @module gateway/authorization-server/oauth-error
 * The errors the authorization server answers with (docs/AUTH.md, "Refusals"): OAuth's own
 * codes (RFC 6749 section 5.2, RFC 7591 section 3.2.2, RFC 8707 section 2), each with the
 * status it is answered with. OAuth clients read `error`, not JSON-RPC, so these stay apart from
 * the session server's registry (protocol/failures.ts), as the SDK keeps client and server
 * errors apart.
 */
import type { ServerResponse } from 'node:http';

export const OAUTH_ERRORS = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  access_denied: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  slow_down: 429,
  temporarily_unavailable: 503,
  server_error: 500,
} as const;

export type OAuthErrorCode = keyof typeof OAUTH_ERRORS;

export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(error: OAuthErrorCode, description: string, headers: Record<string, string> = {}) {
    super(description);
    this.name = 'OAuthError';
    this.error = error;
    this.status = OAUTH_ERRORS[error];
    this.headers = headers;
  }
}

/** The JSON error answer of the token, registration and revocation endpoints (never cached). */
export function answerOAuthError(res: ServerResponse, error: unknown): void {
  const failure = error instanceof OAuthError ? error : new OAuthError('server_error', 'the authorization server failed');
  res
    .writeHead(failure.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...failure.headers })
    .end(JSON.stringify({ error: failure.error, error_description: failure.message }));
}
