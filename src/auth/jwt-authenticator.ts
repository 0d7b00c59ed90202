/**
 * @module auth/jwt-authenticator
 * A resource server for JWT access tokens (MCP authorization; RFC 9068 profile): every request
 * must carry a bearer token signed by a key of the identity provider's JWKS, issued by an
 * accepted issuer for an accepted audience, unexpired (with a small clock tolerance), carrying
 * the required scopes. The session's principal is the person, not the token: a keyed hash of
 * (issuer, principal claim), so a refreshed token keeps the session and another person's token
 * is answered 404 on it (docs/AUTH.md).
 *
 * Verification is `jose`'s (no crypto of our own). Only asymmetric algorithms are accepted, so
 * `alg: none` and an HMAC "signed" with the public key fail. The key set is fetched once and
 * cached; a token naming an unknown key id fetches it again, at most once per cooldown. A key
 * set that cannot be fetched fails closed: 503 with Retry-After, never an accepted token.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { checkOptions, option, OptionError, type OptionsSchema, required } from '../protocol/options.js';
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

export type { Authenticator, AuthRequest, VerifiedIdentity } from './token-rules.js';

export interface JwtAuthenticatorOptions {
  /** The identity provider's key set URL. One of `jwksUri` and `jwks` is required. */
  jwksUri?: string | URL;
  /** The key set itself (for example read from a file). */
  jwks?: JSONWebKeySet;
  /** Accepted issuers (`iss`). Required. */
  issuers: readonly string[];
  /** Accepted audiences (`aud`): the resource's public URL, usually. Required. */
  audiences: readonly string[];
  /** The resource metadata URL every challenge names (RFC 9728). Required. */
  resourceMetadataUrl: string;
  /** Scopes every token must carry (its `scope` or `scp` claim). Default: none. */
  requiredScopes?: readonly string[];
  /** Tolerated difference between clocks for `exp` and `nbf`, ms. Default 60,000. */
  clockSkewMs?: number;
  /** The claim that names the person. Default 'sub'. */
  principalClaim?: string;
  /** Accepted signature algorithms. Default: the asymmetric ones (RS*, PS*, ES*, EdDSA). */
  algorithms?: readonly string[];
  /** Least time between two key set fetches for an unknown key id, ms. Default 30,000. */
  jwksCooldownMs?: number;
  /** What a client is told to wait (Retry-After, seconds) while the key set cannot be fetched. Default 10. */
  retryAfterSeconds?: number;
  /** Verified tokens remembered until they expire. Default 10,000. */
  cacheSize?: number;
}

export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const strings = (what: string) =>
  option.custom(
    `must be a non-empty array of ${what}`,
    (v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s !== ''),
  );

/** What each JWT authenticator option must be (docs/errors.md, "Configuration errors"). */
export const jwtAuthenticatorSchema = {
  jwksUri: option.httpUrl,
  issuers: required(strings('issuers')),
  audiences: required(strings('audiences')),
  resourceMetadataUrl: required(option.string),
  requiredScopes: option.strings('scopes'),
  clockSkewMs: option.nonNegativeInteger,
  principalClaim: option.string,
  algorithms: option.custom(
    `must be a non-empty array of ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
    (v) => Array.isArray(v) && v.length > 0 && v.every((a) => ASYMMETRIC_ALGORITHMS.includes(a as string)),
  ),
  jwksCooldownMs: option.nonNegativeInteger,
  retryAfterSeconds: option.positiveInteger,
  cacheSize: option.positiveInteger,
} satisfies OptionsSchema;

/** The error codes of `jose` that mean "this token is not acceptable" (as opposed to "the keys cannot be had"). */
const REFUSED_TOKEN: ReadonlySet<string> = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

export function jwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  checkOptions(jwtAuthenticatorSchema, options);
  if ((options.jwksUri === undefined) === (options.jwks === undefined)) {
    throw new OptionError('jwksUri', 'sessiongate: give exactly one of the options "jwksUri" and "jwks"');
  }
  const keys =
    options.jwks !== undefined
      ? createLocalJWKSet(options.jwks)
      : createRemoteJWKSet(new URL(options.jwksUri!), { cooldownDuration: options.jwksCooldownMs ?? 30_000 });
  const rules: ResourceRules = { resourceMetadataUrl: options.resourceMetadataUrl, requiredScopes: options.requiredScopes ?? [] };
  const claim = options.principalClaim ?? 'sub';
  const retryAfter = options.retryAfterSeconds ?? 10;
  const verify = {
    issuer: [...options.issuers],
    audience: [...options.audiences],
    algorithms: [...(options.algorithms ?? ASYMMETRIC_ALGORITHMS)],
    clockTolerance: Math.round((options.clockSkewMs ?? 60_000) / 1000),
    requiredClaims: ['exp', claim],
  };

  return bearerAuthenticator(rules, options.cacheSize ?? 10_000, async (token, now) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, verify));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && REFUSED_TOKEN.has(code)) throw refusedToken(rules, reasonOf(error));
      // The key set could not be fetched or read: nobody is let in, and nobody is told their token is bad.
      throw checkerUnavailable(retryAfter, error);
    }
    // jose checks `iat` only against a maximum age: a token issued in the future is refused here,
    // past the same tolerance `nbf` has.
    if (issuedInFuture(payload.iat, now, verify.clockTolerance * 1000)) throw refusedToken(rules, 'the token\'s "iat" is in the future');
    const person = payload[claim];
    if (typeof person !== 'string' || person === '') throw refusedToken(rules, `the token has no "${claim}"`);
    requireScopes(rules, payload);
    return { identity: identityOf(payload.iss, person, payload), until: Math.min(payload.exp! * 1000, now + 3_600_000) };
  });
}

/** A refusal's reason for the challenge: jose's words name the claim, never the token's contents. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's "${error.claim}" is not accepted`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is not signed with an accepted algorithm';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token is signed with an unknown key';
  return 'the token could not be verified';
}
