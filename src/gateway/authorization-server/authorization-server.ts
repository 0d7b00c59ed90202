/**
 * @module gateway/authorization-server/authorization-server
 * `--auth oauth` (docs/AUTH.md, "The gateway as the authorization server"): the gateway is the
 * OAuth 2.1 authorization server MCP clients register with and sign in through, and stays the
 * resource server that checks every request. People sign in at the operator's identity provider
 * (login-provider.ts); clients come by a metadata document (CIMD) or register (RFC 7591); the
 * tokens are the gateway's own, for this resource only, and every record lives in the store's
 * grants, so replicas and restarts keep signed-in people signed in.
 */
import { resourceMetadataUrl } from '../../auth/resource-metadata.js';
import type { ResourceRules } from '../../auth/token-rules.js';
import { SessiongateError } from '../../protocol/failures.js';
import { checkOptions, option, OptionError, required } from '../../protocol/options.js';
import type { SessionStore } from '../../store/store.js';
import type { EventSink } from '../audit-events.js';
import type { GatewayAuth } from '../gateway-options.js';
import { WELL_KNOWN_AUTHORIZATION_SERVER } from './as-metadata.js';
import { MetadataDocuments, type MetadataDocumentOptions } from './client-metadata-document.js';
import { GrantRecords } from './grant-records.js';
import { issuedTokenAuthenticator } from './issued-token-check.js';
import { IssuedTokens } from './issued-tokens.js';
import { LoginProvider, type LoginProviderOptions } from './login-provider.js';
import { oauthRoutes } from './oauth-routes.js';
import { PersonGrants } from './person-grants.js';
import { providerRecheck } from './provider-recheck.js';
import { SecretSealer } from './sealed-secret.js';
import { browserPeople } from './browser-people.js';
import type { Ready, ServerContext } from './server-context.js';
import { SigningKeys } from './signing-keys.js';

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
  /**
   * The key (32 bytes, as 64 hex digits or base64) that seals the identity provider's refresh
   * tokens at rest. Without it they are not kept, and the provider is never asked again.
   */
  secretsKey?: string;
  /** How long the provider's word that a person is signed in holds before a refresh asks it again, ms. Default 3,600,000. */
  providerRecheckMs?: number;
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
  secretsKey: option.string,
  providerRecheckMs: option.nonNegativeInteger,
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
  const sealer = options.secretsKey === undefined ? undefined : SecretSealer.fromText(options.secretsKey);
  const documents = new MetadataDocuments(options.clientDocuments);
  let urls: { issuer: string; resource: string; metadataUrl: string } | undefined;
  let context: ServerContext | undefined;
  let people: PersonGrants | undefined;
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
    const recheck = sealer && providerRecheck(records, login, sealer, options.providerRecheckMs ?? 60 * MINUTE, now);
    const tokens = new IssuedTokens(
      records,
      new SigningKeys(store.secrets, rotationMs),
      { accessMs: accessTokenMs, familyMs },
      () => known().issuer,
      now,
      recheck,
    );
    const consentMs = options.consentMs ?? 90 * DAY;
    people = new PersonGrants(records, Math.max(consentMs, familyMs), now);
    context = {
      records,
      tokens,
      people,
      login,
      sealer,
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

  const ready = (): Ready | undefined => (context && urls ? { context, urls } : undefined);
  return {
    authenticate: issuedTokenAuthenticator(ready, options, rules),
    routes: oauthRoutes(ready, scopes),
    browser: browserPeople(ready, options.principalClaim),
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
