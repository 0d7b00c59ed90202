/**
 * @module gateway/authorization-server/oauth-routes
 * The routes of `--auth oauth` beside /mcp: the RFC 9728 and RFC 8414 metadata, the browser's
 * endpoints (authorize, the provider's callback, consent, the person's grants), the client's
 * (token, revocation, registration, keys; readable across origins), and the pages' stylesheet.
 * Until the gateway listens (its URLs unknown) they answer 503.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { protectedResourceMetadata, WELL_KNOWN_RESOURCE } from '../../auth/resource-metadata.js';
import type { Routes } from '../../server/listen.js';
import { authorizationServerMetadata, OAUTH_PATHS, WELL_KNOWN_AUTHORIZATION_SERVER, WELL_KNOWN_OPENID } from './as-metadata.js';
import { authorize, consent, loginCallback } from './browser-flow.js';
import { grantsEndpoint } from './grants-page.js';
import { answerOAuthError, OAuthError } from './oauth-error.js';
import { STYLESHEET } from './pages.js';
import { registrationEndpoint } from './registration-endpoint.js';
import type { Ready, ServerContext } from './server-context.js';
import { revocationEndpoint, tokenEndpoint } from './token-endpoint.js';

export function oauthRoutes(ready: () => Ready | undefined, scopes: readonly string[]): Routes {
  const serve =
    (handler: (context: ServerContext, req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const parts = ready();
      if (!parts) return void res.writeHead(503, { 'retry-after': '1' }).end();
      try {
        await handler(parts.context, req, res);
      } catch (error) {
        // A refusal thrown past an endpoint (a grant record another replica kept changing) is
        // answered as itself, not as the listener's 500; anything else still is a failure.
        if (!(error instanceof OAuthError) || res.headersSent) throw error;
        answerOAuthError(res, error);
      }
    };
  /**
   * The endpoints a client calls itself (token, registration, revocation, keys): readable across
   * origins, for clients that run in a browser. They take no cookie, so any origin may call them.
   */
  const crossOrigin =
    (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      res.setHeader('access-control-allow-origin', '*');
      if (req.method !== 'OPTIONS') return handler(req, res);
      const preflight = {
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'content-type, authorization',
        'access-control-max-age': '600',
      };
      res.writeHead(204, preflight).end();
    };
  const metadata = (document: (urls: Ready['urls']) => Record<string, unknown>) => (req: IncomingMessage, res: ServerResponse) => {
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET', 'access-control-allow-headers': '*' };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { ...cors, allow: 'GET' }).end();
    const parts = ready();
    if (!parts) return void res.writeHead(503, { ...cors, 'retry-after': '1' }).end();
    res
      .writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'max-age=300' })
      .end(JSON.stringify(document(parts.urls)));
  };
  const resourceMetadata = metadata((urls) =>
    protectedResourceMetadata({ resource: urls.resource, authorizationServers: [urls.issuer], scopesSupported: scopes }),
  );
  const serverMetadata = metadata((urls) => authorizationServerMetadata(urls.issuer, scopes));
  return {
    [WELL_KNOWN_RESOURCE]: resourceMetadata,
    [`${WELL_KNOWN_RESOURCE}/`]: resourceMetadata,
    [WELL_KNOWN_AUTHORIZATION_SERVER]: serverMetadata,
    [`${WELL_KNOWN_AUTHORIZATION_SERVER}/`]: serverMetadata,
    [WELL_KNOWN_OPENID]: serverMetadata,
    [OAUTH_PATHS.authorize]: serve(authorize),
    [OAUTH_PATHS.callback]: serve(loginCallback),
    [OAUTH_PATHS.consent]: serve(consent),
    [OAUTH_PATHS.grants]: serve(grantsEndpoint),
    [OAUTH_PATHS.token]: crossOrigin(serve(tokenEndpoint)),
    [OAUTH_PATHS.revoke]: crossOrigin(serve(revocationEndpoint)),
    [OAUTH_PATHS.register]: crossOrigin(serve(registrationEndpoint)),
    [OAUTH_PATHS.jwks]: crossOrigin(
      serve(async (ctx, _req, res) => {
        const keys = await ctx.tokens.jwks();
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify(keys));
      }),
    ),
    [OAUTH_PATHS.style]: (_req, res) =>
      void res.writeHead(200, { 'content-type': 'text/css', 'cache-control': 'max-age=3600' }).end(STYLESHEET),
  };
}
