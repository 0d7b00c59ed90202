/**
 * @module gateway/identity-view
 * Who called, as the gateway shows it (audit events, the admin API, a stdio server's `_meta`):
 * issuer, the person, the OAuth client and the scopes, from the verified claims; never the
 * token, nor any part of it (docs/AUTH.md). A session keeps its creator's view in its state, so
 * the admin API can show it after a restart.
 */
import { clientIdOf, scopesOf } from '../auth/token-rules.js';
import type { Identity } from '../server/application.js';
import { guarded, stateSlot } from '../session/state-slot.js';

/** A type, not an interface: it is stored as JSON (a session's state, an approval record). */
export type AuditIdentity = {
  issuer: string | null;
  /** The person: the `sub` claim, or the claim `--audit-identity-claim` names (an email, say). */
  subject: string | null;
  /** The OAuth client the person used (`client_id`, or `azp`). */
  clientId: string | null;
  scopes: string[];
};

/** The view of a verified caller, or null for an anonymous one. */
export type IdentityView = (identity: Identity | undefined) => AuditIdentity | null;

/** The identity a session was created by, kept in its state (the admin API reads it). */
export const SESSION_IDENTITY = stateSlot('sessiongate.identity', guarded(isAuditIdentity));

/**
 * Views made once per verified identity (a known token's identity is one object, reused by
 * every request), naming the person by `subjectClaim`.
 */
export function identityView(subjectClaim = 'sub'): IdentityView {
  const viewed = new WeakMap<Identity, AuditIdentity>();
  return (identity) => {
    if (!identity) return null;
    let view = viewed.get(identity);
    if (view === undefined) {
      const claims = identity.claims;
      const text = (name: string): string | null => (typeof claims[name] === 'string' ? claims[name] : null);
      view = {
        issuer: text('iss'),
        subject: text(subjectClaim),
        clientId: clientIdOf(claims) ?? null,
        scopes: [...scopesOf(claims)],
      };
      viewed.set(identity, view);
    }
    return view;
  };
}

/** The view by `sub`: what a stdio server is told. */
export const subjectView: IdentityView = identityView();

function isAuditIdentity(value: unknown): value is AuditIdentity {
  if (typeof value !== 'object' || value === null) return false;
  const { issuer, subject, clientId, scopes } = value as Record<string, unknown>;
  const textOrNull = (v: unknown): boolean => v === null || typeof v === 'string';
  return (
    textOrNull(issuer) && textOrNull(subject) && textOrNull(clientId) && Array.isArray(scopes) && scopes.every((s) => typeof s === 'string')
  );
}
