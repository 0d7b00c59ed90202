/**
 * @module gateway/authorization-server/issued-tokens
 * The tokens the gateway issues (docs/AUTH.md, "Tokens the gateway issues"): short-lived access
 * tokens (JWT, RFC 9068 profile, signed by signing-keys.ts) for exactly this resource, and
 * refresh tokens that are rotated on every use. Every grant starts a family: its refresh tokens
 * share it, and a refresh token presented a second time (stolen, or replayed) ends the family,
 * so neither the thief nor the client keeps access (OAuth 2.1 section 4.3.1). An access token
 * names its family and is honoured only while the family lives, so revoking ends access at the
 * next request, on every replica. What the identity provider said about the person stays in the
 * family, in the store: the token carries the subject, not the person's email or groups, since
 * the client (and whoever runs it) can read it.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { AuthorizationRequest, FamilyRecord, GrantRecords, Person } from './grant-records.js';
import { randomToken, sha256 } from './grant-records.js';
import { OAuthError } from './oauth-error.js';
import type { SigningKeys } from './signing-keys.js';

export interface TokenLifetimes {
  /** Access tokens, ms. */
  accessMs: number;
  /** A family (a sign-in's refresh tokens) at most, ms: then the person signs in again. */
  familyMs: number;
}

/** The token endpoint's answer (RFC 6749 section 5.1). */
export interface TokenAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

/** What a verified access token says. */
export interface VerifiedAccess {
  readonly claims: JWTPayload;
  readonly family: FamilyRecord;
}

export class IssuedTokens {
  readonly #records: GrantRecords;
  readonly #keys: SigningKeys;
  readonly #lifetimes: TokenLifetimes;
  readonly #issuer: () => string;
  readonly #now: () => number;
  readonly #recheck: ((family: FamilyRecord) => Promise<FamilyRecord | undefined>) | undefined;

  constructor(
    records: GrantRecords,
    keys: SigningKeys,
    lifetimes: TokenLifetimes,
    issuer: () => string,
    now: () => number,
    recheck?: (family: FamilyRecord) => Promise<FamilyRecord | undefined>,
  ) {
    this.#recheck = recheck;
    this.#records = records;
    this.#keys = keys;
    this.#lifetimes = lifetimes;
    this.#issuer = issuer;
    this.#now = now;
  }

  /** A new family for a redeemed code: its first access and refresh tokens. */
  async startFamily(
    request: AuthorizationRequest,
    person: Person,
    id: string,
    upstream?: string,
  ): Promise<{ answer: TokenAnswer; family: FamilyRecord }> {
    const now = this.#now();
    const family: FamilyRecord = {
      id,
      clientId: request.clientId,
      scope: request.scope,
      resource: request.resource,
      person,
      createdAt: now,
      expiresAt: now + this.#lifetimes.familyMs,
      ...(upstream !== undefined && { upstream: { sealed: upstream, checkedAt: now } }),
    };
    await this.#records.families.add(family.id, family, family.expiresAt);
    return { answer: await this.#tokens(family), family };
  }

  /**
   * Rotates `token`: the next refresh token of its family and a fresh access token. A token used
   * before ends its family. Throws `invalid_grant` for any token not (or no longer) good.
   */
  async refresh(token: string, clientId: string, askedScope?: readonly string[]): Promise<{ answer: TokenAnswer; family: FamilyRecord }> {
    const key = sha256(token);
    const read = await this.#records.refreshTokens.read(key);
    if (!read) throw new OAuthError('invalid_grant', 'the refresh token is not known, expired or revoked');
    const family = await this.#records.families.get(read.value.family);
    if (!family) throw new OAuthError('invalid_grant', 'the refresh token is not known, expired or revoked');
    if (family.clientId !== clientId) throw new OAuthError('invalid_grant', 'the refresh token was issued to another client');
    // Checked before the token is rotated: a refused refresh leaves the client its token.
    if (askedScope && !askedScope.every((scope) => family.scope.includes(scope)))
      throw new OAuthError('invalid_scope', 'a refresh cannot add scopes the grant does not have');
    // The identity provider asked again, when it is time (provider-recheck.ts): a person it no
    // longer signs in ends the grant, before anything is rotated.
    const current = this.#recheck ? await this.#recheck(family) : family;
    if (!current) {
      await this.endFamily(family.id);
      throw new ProviderSignedOut(family);
    }
    const rotated =
      !read.value.used && (await this.#records.refreshTokens.replace(key, read, { ...read.value, used: true }, family.expiresAt));
    if (!rotated) {
      // Presented again after it was rotated: whoever holds the family's tokens, it ends here.
      await this.endFamily(family.id);
      throw new ReusedRefreshToken(family);
    }
    return { answer: await this.#tokens(current), family: current };
  }

  /** The family of `token` (a refresh token or an access token of this server), if it is one; ends it. */
  async revoke(token: string, clientId: string | undefined): Promise<FamilyRecord | undefined> {
    const refresh = await this.#records.refreshTokens.get(sha256(token));
    const familyId = refresh?.family ?? (await this.#accessFamily(token));
    if (familyId === undefined) return undefined;
    const family = await this.#records.families.get(familyId);
    if (!family) return undefined;
    // RFC 7009 section 2.1: a client may revoke only the tokens issued to it.
    if (clientId !== undefined && family.clientId !== clientId)
      throw new OAuthError('invalid_client', 'the token was issued to another client');
    await this.endFamily(family.id);
    return family;
  }

  /** The key set published at `jwks_uri`. */
  jwks(): ReturnType<SigningKeys['jwks']> {
    return this.#keys.jwks(this.#now());
  }

  async endFamily(id: string): Promise<void> {
    await this.#records.families.remove(id);
  }

  /** The access token's claims and live family, or a thrown jose error / `RevokedToken`. */
  async verify(token: string, resource: string, clockSkewMs: number): Promise<VerifiedAccess> {
    const now = this.#now();
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = await this.#keys.verificationKey(header.kid, now);
        if (!key) throw new errors.JWKSNoMatchingKey();
        return key;
      },
      {
        issuer: this.#issuer(),
        audience: resource,
        algorithms: ['ES256'],
        typ: 'at+jwt',
        clockTolerance: Math.round(clockSkewMs / 1000),
        currentDate: new Date(now),
      },
    );
    const family = typeof payload['fam'] === 'string' ? await this.#records.families.get(payload['fam']) : undefined;
    if (!family) throw new RevokedToken();
    return { claims: payload, family };
  }

  async #accessFamily(token: string): Promise<string | undefined> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = await this.#keys.verificationKey(header.kid, this.#now());
          if (!key) throw new errors.JWKSNoMatchingKey();
          return key;
        },
        { issuer: this.#issuer(), algorithms: ['ES256'], clockTolerance: 60 },
      );
      return typeof payload['fam'] === 'string' ? payload['fam'] : undefined;
    } catch {
      return undefined;
    }
  }

  async #tokens(family: FamilyRecord): Promise<TokenAnswer> {
    const now = this.#now();
    const refreshToken = randomToken(32);
    await this.#records.refreshTokens.add(sha256(refreshToken), { family: family.id, used: false }, family.expiresAt);
    const expiresIn = Math.max(1, Math.floor(Math.min(this.#lifetimes.accessMs, family.expiresAt - now) / 1000));
    const scope = family.scope.join(' ');
    const accessToken = await this.#keys.sign(
      {
        iss: this.#issuer(),
        aud: family.resource,
        sub: family.person.subject,
        client_id: family.clientId,
        scope,
        fam: family.id,
        iat: Math.floor(now / 1000),
        exp: Math.floor(now / 1000) + expiresIn,
        jti: randomToken(12),
      },
      now,
    );
    return { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, refresh_token: refreshToken, scope };
  }
}

/** An access token whose family was revoked or ended. */
export class RevokedToken extends Error {
  constructor() {
    super('the token was revoked');
    this.name = 'RevokedToken';
  }
}

/** A refresh token presented after it was rotated: its family has ended. */
export class ReusedRefreshToken extends OAuthError {
  readonly family: FamilyRecord;

  constructor(family: FamilyRecord) {
    super('invalid_grant', 'the refresh token was used before; every token of its grant is revoked');
    this.family = family;
  }
}

/** A refresh refused because the identity provider no longer signs the person in: the grant has ended. */
export class ProviderSignedOut extends OAuthError {
  readonly family: FamilyRecord;

  constructor(family: FamilyRecord) {
    super('invalid_grant', 'the identity provider no longer signs this person in; sign in again');
    this.family = family;
  }
}
