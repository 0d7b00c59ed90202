/**
 * @module gateway/authorization-server/issued-token-check
 * The resource side of `--auth oauth`: each request's bearer token must be one this gateway
 * issued for this resource (issued-tokens.ts), its signature checked once per token and
 * remembered until it expires, and its grant (refresh family) looked up in the store on every
 * request, so a revocation or a withdrawal ends access at the next request on every replica.
 * The identity is the person as the identity provider described them, from the grant.
 */
import { errors } from 'jose';
import { bearerToken } from '../../auth/bearer.js';
import { ExpiringCache } from '../../auth/expiring-cache.js';
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
import type { Person } from './grant-records.js';
import { RevokedToken } from './issued-tokens.js';
import type { Ready, ServerContext } from './server-context.js';

const MINUTE = 60_000;

type GrantedIdentity = VerifiedIdentity & { family: string };

export function issuedTokenAuthenticator(
  ready: () => Ready | undefined,
  options: { clockSkewMs?: number; principalClaim?: string },
  rules: () => ResourceRules,
): Authenticator {
  const verified = new ExpiringCache<GrantedIdentity>(10_000);
  return async (request) => {
    const parts = ready();
    if (!parts) throw new SessiongateError('SG_AUTH_UNAVAILABLE', undefined, { headers: { 'retry-after': '1' } });
    const token = bearerToken(request.header('authorization'));
    if (token === undefined) throw noToken(rules());
    const key = ExpiringCache.keyOf(token);
    const now = Date.now();
    let identity = verified.get(key, now);
    if (identity === undefined) {
      const checked = await checkToken(parts.context, token, parts.urls.resource, options, rules());
      identity = checked.identity;
      verified.set(key, identity, checked.until);
    }
    const live = await parts.context.records.families.has(identity.family).catch((error: unknown) => {
      throw checkerUnavailable(1, error);
    });
    if (!live) throw refusedToken(rules(), 'the token was revoked');
    return identity;
  };
}

/** Checks a token of this server: its identity (as the identity provider described the person), and until when that holds. */
async function checkToken(
  context: ServerContext,
  token: string,
  resource: string,
  options: { clockSkewMs?: number; principalClaim?: string },
  rules: ResourceRules,
): Promise<{ identity: GrantedIdentity; until: number }> {
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

/** What a person's requests say of them (their identity's claims, as a policy reads them), but for the token's own. */
export function personClaims(person: Person): Record<string, unknown> {
  return { ...person.claims, iss: person.issuer, sub: person.subject };
}

/**
 * The principal a person's requests carry (as `issuedTokenIdentity` makes it), for a person
 * signed in on a page rather than by a token; undefined when they lack the principal claim.
 */
export function personPrincipal(person: Person, principalClaim = 'sub'): string | undefined {
  const described = personClaims(person);
  const named = described[principalClaim];
  return typeof named === 'string' && named !== '' ? identityOf(person.issuer, named, described).principal : undefined;
}
