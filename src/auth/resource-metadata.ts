/**
 * @module auth/resource-metadata
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for an MCP endpoint: what a client reads to
 * find the authorization servers that issue tokens for it. Served at the well-known URL with
 * the endpoint's path appended (`/.well-known/oauth-protected-resource/mcp`, RFC 9728 section
 * 3.1) and, for clients that try the root first, at `/.well-known/oauth-protected-resource`.
 */

export interface ResourceMetadataOptions {
  /** The MCP endpoint's public URL: the resource identifier, and the tokens' audience. */
  resource: string;
  /** The issuers whose tokens are accepted. */
  authorizationServers: readonly string[];
  /** Scopes the resource understands. */
  scopesSupported?: readonly string[];
}

export const WELL_KNOWN_RESOURCE = '/.well-known/oauth-protected-resource';

/** Where the metadata of `resource` is served: the well-known path, then the resource's path. */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}${WELL_KNOWN_RESOURCE}${path}`;
}

/** The metadata document (JSON). */
export function protectedResourceMetadata(options: ResourceMetadataOptions): Record<string, unknown> {
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    ...(options.scopesSupported && options.scopesSupported.length > 0 ? { scopes_supported: [...options.scopesSupported] } : {}),
    bearer_methods_supported: ['header'],
  };
}
