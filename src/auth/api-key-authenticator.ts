/**
 * @module auth/api-key-authenticator
 * API keys, for a deployment too small for an identity provider: each key is a random bearer
 * token, and the gateway holds only its SHA-256, the name of whom it belongs to and their
 * claims (A8 of docs/AUTH.md). A SHA-256 is enough, with no slow password hash, because a key
 * is 32 random bytes: nobody can search that space from the hash, and the check costs one hash
 * and one map look-up, so no cache is needed either. The principal is the key's name, so a
 * person given a new key keeps their sessions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { checkOptions, option, OptionError, type OptionsSchema, required } from '../protocol/options.js';
import { type Authenticator, noToken, refusedToken, requireScopes, type ResourceRules, type VerifiedIdentity } from './token-rules.js';
import { bearerToken } from './bearer.js';

/** One key as it is kept: never the key itself. */
export interface ApiKey {
  /** Whose key it is: the principal, and the `sub` claim. */
  name: string;
  /** The key's SHA-256, hex (`hashApiKey`). */
  sha256: string;
  /** Claims the key grants (`scope` among them); `sub` is always the name. */
  claims?: Readonly<Record<string, unknown>>;
}

export interface ApiKeyAuthenticatorOptions {
  /** The keys accepted. Required. */
  keys: readonly ApiKey[];
  /** Scopes every key must grant. Default: none. */
  requiredScopes?: readonly string[];
}

/** The issuer an API key's identity names (it has no identity provider). */
export const API_KEY_ISSUER = 'sessiongate:api-key';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** What each API key option must be (docs/errors.md, "Configuration errors"). */
export const apiKeyAuthenticatorSchema = {
  keys: required(option.custom('must be an array of { name, sha256, claims? }', (v) => Array.isArray(v))),
  requiredScopes: option.strings('scopes'),
} satisfies OptionsSchema;

export function apiKeyAuthenticator(options: ApiKeyAuthenticatorOptions): Authenticator {
  checkOptions(apiKeyAuthenticatorSchema, options);
  const rules: ResourceRules = { resourceMetadataUrl: undefined, requiredScopes: options.requiredScopes ?? [] };
  const byHash = new Map<string, VerifiedIdentity>();
  for (const key of options.keys) {
    const problem = problemWithKey(key);
    if (problem !== undefined) throw new OptionError('keys', `sessiongate: option "keys": ${problem}`);
    if (byHash.has(key.sha256)) throw new OptionError('keys', `sessiongate: option "keys": the key of "${key.name}" is listed twice`);
    const claims = { ...key.claims, iss: API_KEY_ISSUER, sub: key.name };
    byHash.set(key.sha256, { principal: JSON.stringify([API_KEY_ISSUER, key.name]), claims });
  }
  return (request) => {
    const token = bearerToken(request.header('authorization'));
    if (token === undefined) throw noToken(rules);
    const identity = byHash.get(hashApiKey(token));
    if (identity === undefined) throw refusedToken(rules, 'unknown API key');
    requireScopes(rules, identity.claims);
    return identity;
  };
}

/** The SHA-256 of a key, hex: what a key file holds. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new key (32 random bytes, prefixed so a leaked one is recognisable) and its hash. */
export function newApiKey(): { key: string; sha256: string } {
  const key = `sgk_${randomBytes(32).toString('base64url')}`;
  return { key, sha256: hashApiKey(key) };
}

/** Why `key` cannot be accepted, or undefined. */
export function problemWithKey(key: unknown): string | undefined {
  if (typeof key !== 'object' || key === null) return 'each key is an object { name, sha256, claims? }';
  const { name, sha256, claims } = key as Partial<ApiKey>;
  if (typeof name !== 'string' || !/^[\w.@:-]{1,128}$/.test(name))
    return `a key's name must be 1-128 letters, digits or ._@:- (got ${JSON.stringify(name)})`;
  if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) return `the key of "${name}" has no sha256 (64 hex digits)`;
  if (claims !== undefined && (typeof claims !== 'object' || claims === null || Array.isArray(claims)))
    return `the claims of "${name}" must be an object`;
  return undefined;
}
