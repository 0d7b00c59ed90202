/**
 * @module gateway/authorization-server/server-context
 * What the authorization server's endpoints share once the gateway is assembled: its records,
 * tokens, the identity provider, the metadata documents, the audit, and the URLs it is known
 * by (set when the gateway listens).
 */
import type { BucketStore } from '../../store/bucket-store.js';
import type { EventSink } from '../audit-events.js';
import type { MetadataDocuments } from './client-metadata-document.js';
import { isMetadataDocumentUrl } from './client-metadata-document.js';
import type { ClientRecord, GrantRecords, Person } from './grant-records.js';
import { sha256 } from './grant-records.js';
import type { IssuedTokens } from './issued-tokens.js';
import type { LoginProvider } from './login-provider.js';
import type { PersonGrants } from './person-grants.js';
import type { SecretSealer } from './sealed-secret.js';
import { OAuthError } from './oauth-error.js';

export interface Lifetimes {
  signInMs: number;
  codeMs: number;
  consentMs: number;
  registrationMs: number;
}

export interface ServerContext {
  readonly records: GrantRecords;
  readonly tokens: IssuedTokens;
  /** What each person allowed, for them and for operators to see and withdraw. */
  readonly people: PersonGrants;
  readonly login: LoginProvider;
  /** Seals the identity provider's refresh tokens; none configured: they are not kept. */
  readonly sealer: SecretSealer | undefined;
  readonly documents: MetadataDocuments;
  readonly events: EventSink;
  readonly buckets: BucketStore;
  readonly lifetimes: Lifetimes;
  /** Scopes tokens may carry (the metadata's scopes_supported); none: tokens carry none. */
  readonly scopes: readonly string[];
  /** Registrations one address may make per hour. */
  readonly registrationsPerHour: number;
  /** The gateway's issuer (its origin) and its MCP resource, once it listens. */
  readonly urls: () => { issuer: string; resource: string };
  /** Cookies marked Secure (the gateway is reached over https). */
  readonly secureCookies: () => boolean;
  readonly now: () => number;
}

/** The context and the URLs, once the gateway is assembled and listens. */
export interface Ready {
  readonly context: ServerContext;
  readonly urls: { readonly issuer: string; readonly resource: string };
}

/** Metadata documents one address may make the gateway fetch per hour (a stranger chooses their URLs). */
const DOCUMENT_FETCHES_PER_HOUR = 60;

/**
 * The client `clientId` names: a metadata document (an https URL) or a registration kept here.
 * A document not kept yet is fetched at most DOCUMENT_FETCHES_PER_HOUR times an hour for one
 * `address` (every replica counting together), whatever the URLs.
 */
export async function clientFor(context: ServerContext, clientId: string, address = 'unknown'): Promise<ClientRecord> {
  if (isMetadataDocumentUrl(clientId))
    return context.documents.client(clientId, async () => {
      const perHour = DOCUMENT_FETCHES_PER_HOUR;
      const waitMs = await context.buckets.take(`oauth-document:${address}`, perHour, perHour / 3_600_000, context.now());
      if (waitMs > 0)
        throw new OAuthError(
          'invalid_client',
          `this address had ${perHour} client metadata documents fetched in the last hour; try again later`,
        );
    });
  const client = clientId.length <= 200 ? await context.records.clients.get(clientId) : undefined;
  if (!client)
    throw new OAuthError(
      'invalid_client',
      'client_id is not registered here (register at the registration endpoint, or use a metadata document URL)',
    );
  return client;
}

/** Where a person's consent to a client is remembered. */
export function consentKey(person: Pick<Person, 'issuer' | 'subject'>, clientId: string): string {
  return sha256(JSON.stringify([person.issuer, person.subject, clientId]));
}

/** How an audit line names a person: issuer and subject (never a token). */
export function personName(person: Person): string {
  const email = person.claims['email'];
  return typeof email === 'string' ? `${email} (${person.subject})` : person.subject;
}
