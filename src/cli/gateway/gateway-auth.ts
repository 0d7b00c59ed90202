/**
 * @module cli/gateway/gateway-auth
 * `--auth`: who may call the gateway. `none` keeps the old behaviour (a keyed hash of the raw
 * Authorization header binds a session; nothing is verified) and warns when the gateway listens
 * beyond loopback. `jwt` makes the gateway an OAuth 2.1 resource server (sessiongate/auth):
 * tokens verified against the identity provider's keys, sessions bound to the person, and the
 * RFC 9728 metadata that tells clients where to get a token (docs/AUTH.md).
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { apiKeyAuthenticator } from '../../auth/api-key-authenticator.js';
import { introspectionAuthenticator } from '../../auth/introspection-authenticator.js';
import { type Authenticator, jwtAuthenticator } from '../../auth/jwt-authenticator.js';
import { authorizationServer } from '../../gateway/authorization-server/authorization-server.js';
import { resourceServer } from '../../gateway/resource-server.js';
import { type GatewayAuth, unverifiedAuthorization } from '../../gateway/gateway-options.js';
import { readApiKeyFile } from '../keys/api-key-file.js';
import type { GatewayFlags } from './gateway-flags.js';
import { secretFrom } from './secret.js';

export type { GatewayAuth };

/** `warn` gets each line the command prints to stderr (without the `sessiongate: ` prefix). */
export function gatewayAuth(flags: GatewayFlags, warn: (line: string) => void): GatewayAuth {
  if (flags.auth === 'none') {
    if (flags.identityHeaders)
      throw new Error('--identity-header needs --auth jwt, introspection, api-keys or oauth (there is no verified identity to send)');
    return {
      authenticate: unverifiedAuthorization,
      routes: {},
      listening: () => [],
    };
  }
  if (flags.auth === 'api-keys') return apiKeysAuth(flags.apiKeys, flags.requiredScopes ?? [], warn);
  if (flags.auth === 'oauth') return oauthServer(flags);
  if (!flags.issuers || flags.issuers.length === 0)
    throw new Error(`--auth ${flags.auth} needs --issuer (the identity provider whose tokens are accepted)`);
  const issuers = flags.issuers;
  const makeVerifier = flags.auth === 'jwt' ? jwtVerifier(flags, issuers) : introspectionVerifier(flags);
  return resourceServer({
    issuers,
    verifier: makeVerifier,
    scopes: flags.requiredScopes ?? [],
    ...(flags.publicUrl !== undefined && { publicUrl: flags.publicUrl }),
    kind: flags.auth,
  });
}

/**
 * `--auth api-keys`: the key file is read at start-up (a bad file stops it) and again whenever it
 * changes, so `sessiongate keys add` and `keys remove` take effect without a restart; a file
 * that turns bad keeps the keys read before, and says so. No metadata: there is nothing to discover.
 */
function apiKeysAuth(path: string, requiredScopes: string[], warn: (line: string) => void): GatewayAuth {
  const load = (): Authenticator => apiKeyAuthenticator({ keys: readApiKeyFile(path), requiredScopes });
  let verify = load();
  const reload = (): void => {
    try {
      verify = load();
    } catch (error) {
      warn(`--api-keys: kept the keys read before: ${(error as Error).message}`);
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

/**
 * `--auth oauth`: the gateway issues the tokens; people sign in at `--login-issuer`. The client
 * secret there comes from a file or the environment (SESSIONGATE_LOGIN_CLIENT_SECRET), never
 * from a flag a process list shows.
 */
function oauthServer(flags: GatewayFlags): GatewayAuth {
  if (!flags.loginIssuer || !flags.loginClientId) throw new Error('--auth oauth needs --login-issuer and --login-client-id');
  const secret = secretFrom(flags.loginClientSecretFile, 'SESSIONGATE_LOGIN_CLIENT_SECRET');
  if (!secret) throw new Error('--auth oauth needs --login-client-secret-file or SESSIONGATE_LOGIN_CLIENT_SECRET');
  const secretsKey = secretFrom(flags.secretsKeyFile, 'SESSIONGATE_SECRETS_KEY');
  return authorizationServer({
    login: {
      issuer: flags.loginIssuer,
      clientId: flags.loginClientId,
      clientSecret: secret,
      ...(flags.loginScopes && { scopes: flags.loginScopes }),
      ...(flags.loginPrompt !== undefined && { prompt: flags.loginPrompt }),
      ...(flags.loginParameters && { extraParameters: flags.loginParameters }),
    },
    requiredScopes: flags.requiredScopes ?? [],
    principalClaim: flags.principalClaim,
    accessTokenMs: flags.accessTokenTtlMs,
    refreshFamilyMs: flags.refreshTtlMs,
    clockSkewMs: flags.clockSkewMs,
    clientDocuments: { allowPrivateAddresses: flags.allowPrivateClientDocuments },
    registrationsPerHour: flags.registrationsPerHour,
    providerRecheckMs: flags.loginRecheckMs,
    ...(secretsKey !== undefined && { secretsKey }),
    ...(flags.publicUrl !== undefined && { publicUrl: flags.publicUrl }),
  });
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
