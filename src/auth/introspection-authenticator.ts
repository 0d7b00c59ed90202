/**
 * @module auth/introspection-authenticator
 * A resource server for opaque access tokens: each token is sent to the authorization server's
 * introspection endpoint (RFC 7662), authenticated as this resource's client, and the answer
 * says whether it is active and whose it is. An active answer is remembered until the token
 * expires, at most `cacheMs` (a revoked token is refused again after that long at worst); an
 * unreachable endpoint fails closed (503 with Retry-After). The principal is issuer + subject,
 * as with JWTs (docs/AUTH.md).
 */
import { basicClientAuth, postForm } from './client-form.js';
import { checkOptions, option, type OptionsSchema, required } from '../protocol/options.js';
import {
  type Authenticator,
  bearerAuthenticator,
  checkerUnavailable,
  identityOf,
  issuedInFuture,
  refusedToken,
  requireScopes,
  type ResourceRules,
} from './token-rules.js';

export interface IntrospectionAuthenticatorOptions {
  /** The introspection endpoint (RFC 7662). Required. */
  url: string | URL;
  /** This resource's client id at the authorization server. Required. */
  clientId: string;
  /** Its client secret (from a file or the environment, never a command-line flag). Required. */
  clientSecret: string;
  /** The resource metadata URL every challenge names (RFC 9728). Required. */
  resourceMetadataUrl: string;
  /**
   * Accepted audiences: the answer's `aud` must name one of them (an answer without `aud` is
   * refused). Required: a token issued for another resource must not work here (the confused
   * deputy, MCP authorization "Token Audience Binding"). Usually the resource's public URL.
   */
  audiences: readonly string[];
  /** Scopes every token must carry. Default: none. */
  requiredScopes?: readonly string[];
  /** Tolerated difference between clocks for `iat`, ms. Default 60,000. */
  clockSkewMs?: number;
  /** The longest an answer is remembered, ms (less when the token expires sooner). Default 60,000. */
  cacheMs?: number;
  /** The claim that names the person. Default 'sub'. */
  principalClaim?: string;
  /** What a client is told to wait (Retry-After, seconds) while the endpoint cannot be reached. Default 10. */
  retryAfterSeconds?: number;
  /** How long an introspection may take, ms. Default 5,000. */
  timeoutMs?: number;
  /** Answers remembered. Default 10,000. */
  cacheSize?: number;
}

/** What each introspection option must be (docs/errors.md, "Configuration errors"). */
export const introspectionAuthenticatorSchema = {
  url: required(option.httpUrl),
  clientId: required(option.string),
  clientSecret: required(option.string),
  resourceMetadataUrl: required(option.string),
  audiences: required(option.strings('audiences')),
  requiredScopes: option.strings('scopes'),
  clockSkewMs: option.nonNegativeInteger,
  cacheMs: option.nonNegativeInteger,
  principalClaim: option.string,
  retryAfterSeconds: option.positiveInteger,
  timeoutMs: option.positiveInteger,
  cacheSize: option.positiveInteger,
} satisfies OptionsSchema;

export function introspectionAuthenticator(options: IntrospectionAuthenticatorOptions): Authenticator {
  checkOptions(introspectionAuthenticatorSchema, options);
  const rules: ResourceRules = { resourceMetadataUrl: options.resourceMetadataUrl, requiredScopes: options.requiredScopes ?? [] };
  const claim = options.principalClaim ?? 'sub';
  const cacheMs = options.cacheMs ?? 60_000;
  const authorization = basicClientAuth(options);
  const introspect = async (token: string): Promise<Record<string, unknown>> => {
    try {
      const answer = await postForm(options.url, { token, token_type_hint: 'access_token' }, authorization, options.timeoutMs ?? 5000);
      if (answer.status !== 200) throw new Error(`the introspection endpoint answered ${answer.status}`);
      if (!answer.body) throw new Error('the introspection answer is not a JSON object');
      return answer.body;
    } catch (error) {
      throw checkerUnavailable(options.retryAfterSeconds ?? 10, error);
    }
  };

  return bearerAuthenticator(rules, options.cacheSize ?? 10_000, async (token, now) => {
    const claims = await introspect(token);
    if (claims['active'] !== true) throw refusedToken(rules, 'the token is not active');
    const expires = typeof claims['exp'] === 'number' ? claims['exp'] * 1000 : undefined;
    if (expires !== undefined && expires <= now) throw refusedToken(rules, 'the token expired');
    if (issuedInFuture(claims['iat'], now, options.clockSkewMs ?? 60_000)) throw refusedToken(rules, 'the token\'s "iat" is in the future');
    if (!audienceMatches(claims['aud'], options.audiences)) throw refusedToken(rules, 'the token\'s "aud" is not accepted');
    const person = claims[claim];
    if (typeof person !== 'string' || person === '') throw refusedToken(rules, `the token has no "${claim}"`);
    requireScopes(rules, claims);
    return {
      identity: identityOf(claims['iss'] ?? new URL(options.url).origin, person, claims),
      until: Math.min(expires ?? Infinity, now + cacheMs),
    };
  });
}

function audienceMatches(aud: unknown, accepted: readonly string[]): boolean {
  const named = Array.isArray(aud) ? aud : [aud];
  return named.some((value) => typeof value === 'string' && accepted.includes(value));
}
