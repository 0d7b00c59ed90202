/**
 * @module gateway/authorization-server/provider-recheck
 * The identity provider asked again whether a person is still signed in
 * (docs/AUTH.md, "Tokens the gateway issues"): when a client refreshes a grant whose provider
 * said so longer ago than `--login-recheck`, the gateway refreshes the provider's own refresh
 * token (kept sealed, sealed-secret.ts): a person the provider no longer signs in (disabled,
 * signed out everywhere, their grant revoked there) ends the grant; one it still does gets the
 * provider's description as it is now (groups changed, for example). A grant without the
 * provider's refresh token (none given, or no key configured) is not asked about.
 */
import type { FamilyRecord, GrantRecords, Person } from './grant-records.js';
import type { LoginProvider } from './login-provider.js';
import { OAuthError } from './oauth-error.js';
import type { SecretSealer } from './sealed-secret.js';

/** What a sealed provider token belongs to: the person (a sealed value copied to another person's record does not open). */
export function sealedFor(person: Pick<Person, 'issuer' | 'subject'>): string {
  return JSON.stringify([person.issuer, person.subject]);
}

export function providerRecheck(
  records: GrantRecords,
  login: LoginProvider,
  sealer: SecretSealer,
  recheckMs: number,
  now: () => number,
): (family: FamilyRecord) => Promise<FamilyRecord | undefined> {
  return async (family) => {
    const upstream = family.upstream;
    if (!upstream || now() - upstream.checkedAt < recheckMs) return family;
    // Sealed under a key no longer configured: it cannot be asked about; the grant goes on as without one.
    const token = sealer.open(upstream.sealed, sealedFor(family.person));
    if (token === undefined) return family;
    let answer: { person: Person; refreshToken: string };
    try {
      answer = await login.refresh(token, family.person);
    } catch (error) {
      if (error instanceof OAuthError && error.error === 'invalid_grant') return undefined;
      throw error;
    }
    const next: FamilyRecord = {
      ...family,
      person: answer.person,
      upstream: { sealed: sealer.seal(answer.refreshToken, sealedFor(answer.person)), checkedAt: now() },
    };
    // Kept for the next refresh; a replica that changed it meanwhile wins (its token is as new).
    const read = await records.families.read(family.id);
    if (read) await records.families.replace(family.id, read, next, family.expiresAt);
    return next;
  };
}
