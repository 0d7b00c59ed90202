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

/** The client `clientId` names: a metadata document (an https URL) or a registration kept here. */
export async function clientFor(context: ServerContext, clientId: string): Promise<ClientRecord> {
  if (isMetadataDocumentUrl(clientId)) return context.documents.client(clientId);
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
