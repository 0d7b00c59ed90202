/**
 * @module gateway/resource-server
 * The gateway as an OAuth 2.1 resource server (docs/AUTH.md): bearer tokens checked by a
 * verifier made once the gateway's public URL (the tokens' audience, the metadata's resource)
 * is known, and the RFC 9728 metadata that tells clients where to get a token. Before it
 * listens nobody is let in (fail closed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from '../auth/jwt-authenticator.js';
import { protectedResourceMetadata, resourceMetadataUrl, WELL_KNOWN_RESOURCE } from '../auth/resource-metadata.js';
import { SessiongateError } from '../protocol/failures.js';
import type { GatewayAuth } from './gateway-options.js';

export interface ResourceServerOptions {
  /** The identity providers whose tokens are accepted (the metadata's `authorization_servers`). */
  issuers: readonly string[];
  /** Makes the verifier for the resource (`jwtAuthenticator`, `introspectionAuthenticator`), told its metadata's URL for challenges. */
  verifier: (resource: string, metadataUrl: string) => Authenticator;
  /** Scopes the metadata lists as supported. Default: none. */
  scopes?: readonly string[];
  /** The URL callers use. Default: the one the gateway listens on. */
  publicUrl?: string;
  /** How the start-up summary names the kind of auth. Default 'jwt'. */
  kind?: string;
}

export function resourceServer(options: ResourceServerOptions): GatewayAuth {
  /** Set once the gateway listens (the public URL is then known). */
  let ready: { verify: Authenticator; metadata: string; paths: string[] } | undefined;
  const serveMetadata = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    // Browser clients read the metadata across origins (MCP authorization, "Protected Resource Metadata").
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET', 'access-control-allow-headers': '*' };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { ...cors, allow: 'GET' }).end();
    if (!ready?.paths.includes(path)) return void res.writeHead(404, cors).end();
    res.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(ready.metadata);
  };
  return {
    authenticate: (request) => {
      // Until the gateway listens nobody is let in (fail closed); it listens before it is reachable.
      if (!ready) throw new SessiongateError('SG_AUTH_UNAVAILABLE', undefined, { headers: { 'retry-after': '1' } });
      return ready.verify(request);
    },
    routes: { [WELL_KNOWN_RESOURCE]: serveMetadata, [`${WELL_KNOWN_RESOURCE}/`]: serveMetadata },
    listening(url) {
      const resource = options.publicUrl ?? url;
      const metadataUrl = resourceMetadataUrl(resource);
      ready = {
        verify: options.verifier(resource, metadataUrl),
        metadata: JSON.stringify(
          protectedResourceMetadata({ resource, authorizationServers: [...options.issuers], scopesSupported: [...(options.scopes ?? [])] }),
        ),
        paths: [WELL_KNOWN_RESOURCE, new URL(metadataUrl).pathname],
      };
      return [`  auth: ${options.kind ?? 'jwt'} (issuers ${options.issuers.join(', ')}; metadata ${metadataUrl})`];
    },
  };
}
