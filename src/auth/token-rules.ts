/**
 * @module auth/token-rules
 * What every authenticator of a protected resource does the same way, whatever checks the
 * token (a JWT signature, an introspection endpoint): the challenges it answers with (A4, A5 of
 * docs/AUTH.md), the scopes a token grants, and the identity the session is bound to.
 */
import { SessiongateError } from '../protocol/failures.js';
import { bearerToken } from './bearer.js';
import { challengeHeader } from './challenge.js';
import { ExpiringCache } from './expiring-cache.js';

/** The verified caller (the session server's `Identity`): the principal it hashes, and the verified claims. */
export interface VerifiedIdentity {
  readonly principal: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** What an authenticator looks at: the request's headers (the session server's RequestView fits). */
export interface AuthRequest {
  header(name: string): string | undefined;
}

/**
 * For `createSessionServer({ authenticate })`: the verified caller, or a thrown 401/403/503. A
 * token already checked is answered at once (no promise: the request path does not wait a turn).
 */
export type Authenticator = (request: AuthRequest) => VerifiedIdentity | Promise<VerifiedIdentity>;

/** What checking one token found: whose it is, and until when (ms since the epoch) that may be remembered. */
export interface CheckedToken {
  identity: VerifiedIdentity;
  until: number;
}

/**
 * An authenticator from a way to check a token: the bearer token is taken from the request (401
 * without one), a token already checked is answered from memory, and a new one is checked once
 * and remembered until its `until`. `check` throws the refusals below.
 */
export function bearerAuthenticator(
  rules: ResourceRules,
  cacheSize: number,
  check: (token: string, now: number) => Promise<CheckedToken>,
): Authenticator {
  const known = new ExpiringCache<VerifiedIdentity>(cacheSize);
  const checkAndRemember = async (token: string, key: string, now: number): Promise<VerifiedIdentity> => {
    const { identity, until } = await check(token, now);
    known.set(key, identity, until);
    return identity;
  };
  return (request) => {
    const token = bearerToken(request.header('authorization'));
    if (token === undefined) throw noToken(rules);
    const key = ExpiringCache.keyOf(token);
    const now = Date.now();
    return known.get(key, now) ?? checkAndRemember(token, key, now);
  };
}

export interface ResourceRules {
  /** The resource metadata URL every challenge names (RFC 9728); none for API keys. */
  resourceMetadataUrl: string | undefined;
  /** Scopes every token must carry. */
  requiredScopes: readonly string[];
}

/** 401: no bearer token (A4). */
export function noToken(rules: ResourceRules): SessiongateError {
  return new SessiongateError('SG_UNAUTHENTICATED', undefined, { headers: challenge(rules) });
}

/** 401 `invalid_token`, with a reason that names a claim, never the token's contents (A4). */
export function refusedToken(rules: ResourceRules, reason: string): SessiongateError {
  return new SessiongateError('SG_INVALID_TOKEN', undefined, { headers: challenge(rules, 'invalid_token', reason) });
}

/** 503: what checks tokens cannot be reached; nobody is let in meanwhile (fail closed). */
export function checkerUnavailable(retryAfterSeconds: number, cause: unknown): SessiongateError {
  return new SessiongateError('SG_AUTH_UNAVAILABLE', undefined, { headers: { 'retry-after': String(retryAfterSeconds) }, cause });
}

/** Throws 403 `insufficient_scope` naming the missing scopes (A5) unless `claims` grant every required one. */
export function requireScopes(rules: ResourceRules, claims: Readonly<Record<string, unknown>>): void {
  const granted = scopesOf(claims);
  const missing = rules.requiredScopes.filter((scope) => !granted.has(scope));
  if (missing.length === 0) return;
  throw new SessiongateError('SG_INSUFFICIENT_SCOPE', undefined, {
    headers: challenge(rules, 'insufficient_scope', `the token lacks ${missing.join(' ')}`),
  });
}

/** The token's scopes: `scope` (space-separated, RFC 9068 and RFC 7662) or `scp` (a list, as some providers send). */
export function scopesOf(claims: Readonly<Record<string, unknown>>): Set<string> {
  const scope = claims['scope'] ?? claims['scp'];
  if (typeof scope === 'string') return new Set(scope.split(' ').filter(Boolean));
  return new Set(Array.isArray(scope) ? scope.filter((s): s is string => typeof s === 'string') : []);
}

/** The OAuth client a token was issued to: `client_id` (RFC 9068, RFC 7662), else `azp` (OIDC). */
export function clientIdOf(claims: Readonly<Record<string, unknown>>): string | undefined {
  const [clientId, azp] = [claims['client_id'], claims['azp']];
  return typeof clientId === 'string' ? clientId : typeof azp === 'string' ? azp : undefined;
}

/** A token whose `iat` (seconds) lies further in the future than `skewMs` allows: refused (a clock set wrong, or a forged token). */
export function issuedInFuture(iat: unknown, now: number, skewMs: number): boolean {
  return typeof iat === 'number' && iat * 1000 > now + skewMs;
}

/** The person across token refreshes: issuer and subject, never the token. */
export function identityOf(issuer: unknown, person: string, claims: Readonly<Record<string, unknown>>): VerifiedIdentity {
  return { principal: JSON.stringify([issuer ?? null, person]), claims };
}

function challenge(rules: ResourceRules, error?: 'invalid_token' | 'insufficient_scope', description?: string): Record<string, string> {
  return {
    'www-authenticate': challengeHeader({
      resourceMetadata: rules.resourceMetadataUrl,
      scopes: rules.requiredScopes,
      ...(error ? { error } : {}),
      ...(description ? { description } : {}),
    }),
  };
}
