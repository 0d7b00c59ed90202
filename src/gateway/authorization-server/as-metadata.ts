/**
 * @module gateway/authorization-server/as-metadata
 * The gateway's OAuth 2.0 Authorization Server Metadata (RFC 8414), which MCP clients find from
 * the resource metadata (RFC 9728) and read at `/.well-known/oauth-authorization-server` (or the
 * OpenID path some clients try first). Endpoints live under `/oauth/`.
 */
export const OAUTH_PATHS = {
  authorize: '/oauth/authorize',
  token: '/oauth/token',
  register: '/oauth/register',
  revoke: '/oauth/revoke',
  jwks: '/oauth/jwks',
  callback: '/oauth/callback',
  consent: '/oauth/consent',
  grants: '/oauth/grants',
  style: '/oauth/style.css',
} as const;

export const WELL_KNOWN_AUTHORIZATION_SERVER = '/.well-known/oauth-authorization-server';
export const WELL_KNOWN_OPENID = '/.well-known/openid-configuration';

export function authorizationServerMetadata(issuer: string, scopes: readonly string[]): Record<string, unknown> {
  const at = (path: string): string => `${issuer}${path}`;
  return {
    issuer,
    authorization_endpoint: at(OAUTH_PATHS.authorize),
    token_endpoint: at(OAUTH_PATHS.token),
    registration_endpoint: at(OAUTH_PATHS.register),
    revocation_endpoint: at(OAUTH_PATHS.revoke),
    jwks_uri: at(OAUTH_PATHS.jwks),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    ...(scopes.length > 0 && { scopes_supported: [...scopes] }),
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
  };
}
