/**
 * @module gateway/authorization-server/authorization-server
 * `--auth oauth` (docs/AUTH.md, "The gateway as the authorization server"): the gateway is the
 * OAuth 2.1 authorization server MCP clients register with and sign in through, and stays the
 * resource server that checks every request. People sign in at the operator's identity provider
 * (login-provider.ts); clients come by a metadata document (CIMD) or register (RFC 7591); the
 * tokens are the gateway's own, for this resource only, and every record lives in the store's
 * grants, so replicas and restarts keep signed-in people signed in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from 'jose';
import { bearerToken } from '../../auth/bearer.js';
import { ExpiringCache } from '../../auth/expiring-cache.js';
import { protectedResourceMetadata, resourceMetadataUrl, WELL_KNOWN_RESOURCE } from '../../auth/resource-metadata.js';
import {
  type Authenticator,
  checkerUnavailable,
  identityOf,
  noToken,
  refusedToken,
  requireScopes,
  type ResourceRules,
  type VerifiedIdentity,
} from '../../auth/token-rules.js';
import { SessiongateError } from '../../protocol/failures.js';
import { checkOptions, option, OptionError, required } from '../../protocol/options.js';
import type { Routes } from '../../server/listen.js';
import type { SessionStore } from '../../store/store.js';
import type { EventSink } from '../audit-events.js';
import type { GatewayAuth } from '../gateway-options.js';
import { authorizationServerMetadata, OAUTH_PATHS, WELL_KNOWN_AUTHORIZATION_SERVER, WELL_KNOWN_OPENID } from './as-metadata.js';
import { authorize, consent, loginCallback } from './browser-flow.js';
import { MetadataDocuments, type MetadataDocumentOptions } from './client-metadata-document.js';
import { GrantRecords } from './grant-records.js';
import { grantsEndpoint } from './grants-page.js';
import { PersonGrants } from './person-grants.js';
import { IssuedTokens, RevokedToken } from './issued-tokens.js';
import { LoginProvider, type LoginProviderOptions } from './login-provider.js';
import { STYLESHEET } from './pages.js';
import { registrationEndpoint } from './registration-endpoint.js';
import type { ServerContext } from './server-context.js';
import { SigningKeys } from './signing-keys.js';
import { revocationEndpoint, tokenEndpoint } from './token-endpoint.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface AuthorizationServerOptions {
  /** The identity provider people sign in at (OpenID Connect). Required. */
  login: LoginProviderOptions;
  /** Scopes tokens may carry (scopes_supported), and those every request's token must carry. Default: none. */
  scopes?: readonly string[];
  requiredScopes?: readonly string[];
  /** The claim of the provider's ID token that names the person (the session's principal). Default 'sub'. */
  principalClaim?: string;
  /** Access tokens' lifetime, ms. Default 900,000 (15 minutes). */
  accessTokenMs?: number;
  /** How long a sign-in's refresh tokens go on at most, ms; then the person signs in again. Default 30 days. */
  refreshFamilyMs?: number;
  /** How often the signing key changes, ms (more than the access tokens' lifetime). Default 7 days. */
  signingKeyRotationMs?: number;
  /** How long a consent is remembered, ms. Default 90 days. */
  consentMs?: number;
  /** How long a dynamic registration is kept, ms. Default 180 days. */
  registrationMs?: number;
  /** Registrations one address may make per hour. Default 60 (hosted clients such as Claude and ChatGPT register from addresses all their users share). */
  registrationsPerHour?: number;
  /** Fetching clients' metadata documents (CIMD): limits, and loopback/private addresses for development. */
  clientDocuments?: MetadataDocumentOptions;
  /** Tolerated difference between clocks, ms. Default 60,000. */
  clockSkewMs?: number;
  /** The URL callers use, when not the one it listens on. */
  publicUrl?: string;
}

const SCHEMA = {
  login: required(
    option.custom('must be { issuer, clientId, clientSecret }', (value) => {
      const login = value as Partial<LoginProviderOptions> | null;
      return (
        typeof login?.issuer === 'string' &&
        /^https?:\/\//.test(login.issuer) &&
        typeof login.clientId === 'string' &&
        typeof login.clientSecret === 'string'
      );
    }),
  ),
  scopes: option.strings('scopes'),
  requiredScopes: option.strings('scopes'),
  principalClaim: option.string,
  accessTokenMs: option.finitePositive,
  refreshFamilyMs: option.finitePositive,
  signingKeyRotationMs: option.finitePositive,
  consentMs: option.finitePositive,
  registrationMs: option.finitePositive,
  registrationsPerHour: option.positiveInteger,
  clockSkewMs: option.nonNegativeInteger,
  publicUrl: option.httpUrl,
};

/** The gateway as the authorization server (and resource server) of `--auth oauth`. */
export function authorizationServer(options: AuthorizationServerOptions): GatewayAuth {
  checkOptions(SCHEMA, options);
  const accessTokenMs = options.accessTokenMs ?? 15 * MINUTE;
  const rotationMs = options.signingKeyRotationMs ?? 7 * DAY;
  if (rotationMs <= accessTokenMs)
    throw new OptionError('signingKeyRotationMs', 'sessiongate: option "signingKeyRotationMs" must be longer than "accessTokenMs"');
  const requiredScopes = options.requiredScopes ?? [];
  const scopes = [...new Set([...(options.scopes ?? []), ...requiredScopes])];
  const login = new LoginProvider(options.login);
  const documents = new MetadataDocuments(options.clientDocuments);
  let urls: { issuer: string; resource: string; metadataUrl: string } | undefined;
  let context: ServerContext | undefined;
  let people: PersonGrants | undefined;
  const verified = new ExpiringCache<Omit<VerifiedIdentity, never> & { family: string }>(10_000);
  const rules = (): ResourceRules => ({ resourceMetadataUrl: urls?.metadataUrl, requiredScopes });

  const attach = (store: SessionStore, events: EventSink): void => {
    if (!store.grants)
      throw new OptionError(
        'auth',
        'sessiongate: option "auth" (an authorization server) needs a store that keeps grants (memory, SQLite and Redis do)',
      );
    const now = (): number => Date.now();
    const records = new GrantRecords(store.grants, now);
    const known = (): { issuer: string; resource: string } => {
      if (!urls) throw new SessiongateError('SG_AUTH_UNAVAILABLE', undefined, { headers: { 'retry-after': '1' } });
      return urls;
    };
    const familyMs = options.refreshFamilyMs ?? 30 * DAY;
    const tokens = new IssuedTokens(
      records,
      new SigningKeys(store.secrets, rotationMs),
      { accessMs: accessTokenMs, familyMs },
      () => known().issuer,
      now,
    );
    const consentMs = options.consentMs ?? 90 * DAY;
    people = new PersonGrants(records, Math.max(consentMs, familyMs), now);
    context = {
      records,
      tokens,
      people,
      login,
      documents,
      events,
      buckets: store.buckets,
      lifetimes: {
        signInMs: 10 * MINUTE,
        codeMs: MINUTE,
        consentMs: options.consentMs ?? 90 * DAY,
        registrationMs: options.registrationMs ?? 180 * DAY,
      },
      scopes,
      registrationsPerHour: options.registrationsPerHour ?? 60,
      urls: known,
      secureCookies: () => urls?.issuer.startsWith('https:') ?? false,
      now,
    };
  };

  /** Each request's token: the signature checked once per token (remembered), the grant's family every time. */
  const authenticate: Authenticator = async (request) => {
    if (!context || !urls) throw new SessiongateError('SG_AUTH_UNAVAILABLE', undefined, { headers: { 'retry-after': '1' } });
    const token = bearerToken(request.header('authorization'));
    if (token === undefined) throw noToken(rules());
    const key = ExpiringCache.keyOf(token);
    const now = Date.now();
    let identity = verified.get(key, now);
    if (identity === undefined) {
      const checked = await checkToken(context, token, urls.resource, options, rules());
      identity = checked.identity;
      verified.set(key, identity, checked.until);
    }
    // Revocation ends access at the next request, on every replica (issued-tokens.ts).
    const live = await context.records.families.has(identity.family).catch((error: unknown) => {
      throw checkerUnavailable(1, error);
    });
    if (!live) throw refusedToken(rules(), 'the token was revoked');
    return identity;
  };

  const serve =
    (handler: (context: ServerContext, req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      if (!context || !urls) return void res.writeHead(503, { 'retry-after': '1' }).end();
      await handler(context, req, res);
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
  const metadata = (document: () => Record<string, unknown>) => (req: IncomingMessage, res: ServerResponse) => {
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET', 'access-control-allow-headers': '*' };
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { ...cors, allow: 'GET' }).end();
    if (!urls) return void res.writeHead(503, { ...cors, 'retry-after': '1' }).end();
    res.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify(document()));
  };
  const resourceMetadata = metadata(() =>
    protectedResourceMetadata({ resource: urls!.resource, authorizationServers: [urls!.issuer], scopesSupported: scopes }),
  );
  const serverMetadata = metadata(() => authorizationServerMetadata(urls!.issuer, scopes));
  const routes: Routes = {
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

  return {
    authenticate,
    routes,
    attach,
    grants: {
      list: (person) => (people ? people.list(person) : Promise.resolve([])),
      async withdraw(person, clientId) {
        if (!people || !context || !(await people.withdraw(person, clientId))) return false;
        context.events.write({ event: 'oauth', action: 'consent.withdrawn', client: clientId, person: person.subject, by: 'operator' });
        return true;
      },
    },
    listening(url) {
      const resource = options.publicUrl ?? url;
      urls = { issuer: new URL(resource).origin, resource, metadataUrl: resourceMetadataUrl(resource) };
      return [
        `  auth: oauth (the gateway issues tokens; people sign in at ${options.login.issuer}; metadata ${urls.issuer}${WELL_KNOWN_AUTHORIZATION_SERVER})`,
      ];
    },
  };
}

/** Checks a token of this server: its identity (as the identity provider described the person), and until when that holds. */
async function checkToken(
  context: ServerContext,
  token: string,
  resource: string,
  options: AuthorizationServerOptions,
  rules: ResourceRules,
): Promise<{ identity: VerifiedIdentity & { family: string }; until: number }> {
  let access;
  try {
    access = await context.tokens.verify(token, resource, options.clockSkewMs ?? MINUTE);
  } catch (error) {
    if (error instanceof RevokedToken) throw refusedToken(rules, 'the token was revoked');
    if (error instanceof errors.JWTExpired) throw refusedToken(rules, 'the token has expired');
    if (error instanceof errors.JWTClaimValidationFailed) throw refusedToken(rules, `the token's ${error.claim} claim is not accepted`);
    if (error instanceof errors.JOSEError) throw refusedToken(rules, 'the token is not one this server issued');
    throw checkerUnavailable(1, error);
  }
  const { claims, family } = access;
  const person = family.person;
  const described: Record<string, unknown> = {
    ...person.claims,
    iss: person.issuer,
    sub: person.subject,
    client_id: family.clientId,
    scope: family.scope.join(' '),
    exp: claims.exp,
  };
  requireScopes(rules, described);
  const claim = options.principalClaim ?? 'sub';
  const named = described[claim];
  if (typeof named !== 'string' || named === '') throw refusedToken(rules, `the person has no ${claim} claim`);
  return { identity: { ...identityOf(person.issuer, named, described), family: family.id }, until: (claims.exp ?? 0) * 1000 };
}
