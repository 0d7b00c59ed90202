/**
 * @module cli/gateway/gateway-auth
 * `--auth`: who may call the gateway. `none` keeps the old behaviour (a keyed hash of the raw
 * Authorization header binds a session; nothing is verified) and warns when the gateway listens
 * beyond loopback. `jwt` makes the gateway an OAuth 2.1 resource server (sessiongate/auth):
 * tokens verified against the identity provider's keys, sessions bound to the person, and the
 * RFC 9728 metadata that tells clients where to get a token (docs/AUTH.md).
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import { apiKeyAuthenticator } from '../../auth/api-key-authenticator.js';
import { introspectionAuthenticator } from '../../auth/introspection-authenticator.js';
import { type Authenticator, jwtAuthenticator } from '../../auth/jwt-authenticator.js';
import { protectedResourceMetadata, resourceMetadataUrl, WELL_KNOWN_RESOURCE } from '../../auth/resource-metadata.js';
import { SessiongateError } from '../../protocol/failures.js';
import type { SessionServerOptions } from '../../server/options.js';
import { report } from '../run-server.js';
import type { Routes } from '../serve.js';
import { readApiKeyFile } from '../keys/api-key-file.js';
import type { GatewayFlags } from './gateway-flags.js';
import { secretFrom } from './secret.js';

export interface GatewayAuth {
  /** For the session server: the caller's principal (or a thrown 401/403/503). */
  authenticate: NonNullable<SessionServerOptions['authenticate']>;
  /** The metadata routes (none without --auth jwt). */
  routes: Routes;
  /** Called once the gateway listens: its URL is the default public URL (the resource, the audience). */
  listening(url: string): string[];
  /** Stops watching what it reads (the API key file). */
  close?(): void;
}

export function gatewayAuth(flags: GatewayFlags): GatewayAuth {
  if (flags.auth === 'none') {
    if (flags.identityHeaders)
      throw new Error('--identity-header needs --auth jwt, introspection or api-keys (there is no verified identity to send)');
    return {
      // The principal is a keyed hash of the Authorization header when one is sent (unverified).
      authenticate: (request) => request.header('authorization'),
      routes: {},
      listening: () => [],
    };
  }
  if (flags.auth === 'api-keys') return apiKeysAuth(flags.apiKeys, flags.requiredScopes ?? []);
  if (!flags.issuers || flags.issuers.length === 0)
    throw new Error(`--auth ${flags.auth} needs --issuer (the identity provider whose tokens are accepted)`);
  const issuers = flags.issuers;
  const makeVerifier = flags.auth === 'jwt' ? jwtVerifier(flags, issuers) : introspectionVerifier(flags);
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
      const resource = flags.publicUrl ?? url;
      const metadataUrl = resourceMetadataUrl(resource);
      ready = {
        verify: makeVerifier(resource, metadataUrl),
        metadata: JSON.stringify(
          protectedResourceMetadata({ resource, authorizationServers: issuers, scopesSupported: flags.requiredScopes ?? [] }),
        ),
        paths: [WELL_KNOWN_RESOURCE, new URL(metadataUrl).pathname],
      };
      return [`  auth: ${flags.auth} (issuers ${issuers.join(', ')}; metadata ${metadataUrl})`];
    },
  };
}

/**
 * `--auth api-keys`: the key file is read at start-up (a bad file stops it) and again whenever it
 * changes, so `sessiongate keys add` and `keys remove` take effect without a restart; a file
 * that turns bad keeps the keys read before, and says so. No metadata: there is nothing to discover.
 */
function apiKeysAuth(path: string, requiredScopes: string[]): GatewayAuth {
  const load = (): Authenticator => apiKeyAuthenticator({ keys: readApiKeyFile(path), requiredScopes });
  let verify = load();
  const reload = (): void => {
    try {
      verify = load();
    } catch (error) {
      report(new Error(`--api-keys: kept the keys read before: ${(error as Error).message}`));
    }
  };
  // Polled, not fs.watch: it sees a file replaced by an editor too, and never keeps the process alive.
  watchFile(path, { persistent: false, interval: 1000 }, reload);
  return {
    authenticate: (request) => verify(request),
    routes: {},
    listening: () => [`  auth: api-keys (from ${path}, read again when it changes)`],
    close: () => unwatchFile(path, reload),
  };
}

/** `--auth jwt`: checked at start-up; the authenticator is made once the public URL is known. */
function jwtVerifier(flags: GatewayFlags, issuers: string[]): (resource: string, metadataUrl: string) => Authenticator {
  if ((flags.jwksUri === undefined) === (flags.jwksFile === undefined))
    throw new Error('--auth jwt needs one of --jwks-uri and --jwks-file');
  const jwks = flags.jwksFile === undefined ? { jwksUri: flags.jwksUri! } : { jwks: readJwks(flags.jwksFile) };
  return (resource, metadataUrl) =>
    jwtAuthenticator({
      ...jwks,
      issuers,
      audiences: flags.audiences ?? [resource],
      resourceMetadataUrl: metadataUrl,
      requiredScopes: flags.requiredScopes ?? [],
      clockSkewMs: flags.clockSkewMs,
      principalClaim: flags.principalClaim,
    });
}

/**
 * `--auth introspection`: the client secret comes from a file or the environment
 * (SESSIONGATE_INTROSPECTION_CLIENT_SECRET), never from a flag a process list shows.
 */
function introspectionVerifier(flags: GatewayFlags): (resource: string, metadataUrl: string) => Authenticator {
  if (!flags.introspectionUrl || !flags.introspectionClientId)
    throw new Error('--auth introspection needs --introspection-url and --introspection-client-id');
  const secret = secretFrom(flags.introspectionSecretFile, 'SESSIONGATE_INTROSPECTION_CLIENT_SECRET');
  if (!secret) throw new Error('--auth introspection needs --introspection-secret-file or SESSIONGATE_INTROSPECTION_CLIENT_SECRET');
  const { introspectionUrl: url, introspectionClientId: clientId } = flags;
  return (resource, metadataUrl) =>
    introspectionAuthenticator({
      url,
      clientId,
      clientSecret: secret,
      resourceMetadataUrl: metadataUrl,
      // As for JWTs: a token the person gave to another resource is not accepted here (docs/AUTH.md, A3).
      audiences: flags.audiences ?? [resource],
      requiredScopes: flags.requiredScopes ?? [],
      cacheMs: flags.introspectionCacheMs,
      clockSkewMs: flags.clockSkewMs,
      principalClaim: flags.principalClaim,
    });
}

/** The key set of `--jwks-file`: read once at start-up. */
function readJwks(path: string): JSONWebKeySet {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { keys?: unknown }).keys)) {
    throw new Error(`--jwks-file ${path}: not a JSON Web Key Set (an object with "keys")`);
  }
  return parsed as JSONWebKeySet;
}
