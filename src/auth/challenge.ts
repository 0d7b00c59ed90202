/**
 * @module auth/challenge
 * The `WWW-Authenticate` challenge of a protected MCP resource (MCP authorization, "Protected
 * Resource Metadata Discovery"; RFC 6750, section 3; RFC 9728, section 5.1): the resource
 * metadata URL (when an authorization server issues the tokens; API keys have none), the
 * scopes a client should ask for, and the error when a token was sent and refused.
 * docs/AUTH.md lists which answer carries which.
 */

export interface Challenge {
  /** Where the protected-resource metadata is served (RFC 9728); none for API keys (nothing to discover). */
  resourceMetadata?: string | undefined;
  /** Scopes the client should request (space-separated in the header). */
  scopes?: readonly string[];
  /** `invalid_token` (401) or `insufficient_scope` (403); none when no token was sent. */
  error?: 'invalid_token' | 'insufficient_scope';
  /** A short reason, for people (never any part of the token). */
  description?: string;
}

export function challengeHeader(challenge: Challenge): string {
  const params: string[] = [];
  if (challenge.resourceMetadata !== undefined) params.push(`resource_metadata="${quoted(challenge.resourceMetadata)}"`);
  if (challenge.scopes && challenge.scopes.length > 0) params.push(`scope="${quoted(challenge.scopes.join(' '))}"`);
  if (challenge.error) params.push(`error="${challenge.error}"`);
  if (challenge.description) params.push(`error_description="${quoted(challenge.description)}"`);
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

/** A quoted-string's content: visible ASCII and spaces, without quotes or backslashes. */
function quoted(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, '');
}
