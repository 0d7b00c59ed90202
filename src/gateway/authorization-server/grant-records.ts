/**
 * @module gateway/authorization-server/grant-records
 * What the authorization server keeps, typed, over the store's grants (store/grant-store.ts):
 * registered clients, sign-ins under way, authorization codes, consents, refresh-token families
 * and the refresh tokens of each. Codes and refresh tokens are kept under their SHA-256, never
 * as themselves, so the store holds nothing a reader could present.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { GrantStore } from '../../store/grant-store.js';

/** Who signed in at the identity provider: its issuer, the subject, and the claims policy may use. */
export interface Person {
  readonly issuer: string;
  readonly subject: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface ClientRecord {
  readonly client_id: string;
  readonly redirect_uris: readonly string[];
  readonly client_name?: string;
  readonly client_uri?: string;
  readonly logo_uri?: string;
  readonly application_type?: 'web' | 'native';
  /** How it came to be known: registered here (RFC 7591) or its metadata document (CIMD). */
  readonly registration: 'dynamic' | 'metadata-document';
}

/** What the client asked for, checked at the authorization endpoint. */
export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly codeChallenge: string;
  readonly scope: readonly string[];
  readonly resource: string;
}

/**
 * A sign-in under way: the client's request (none when the person signs in to manage what they
 * allowed), the browser it belongs to, the identity provider's leg, then the person.
 */
export interface SignIn {
  readonly request: AuthorizationRequest | undefined;
  /** SHA-256 of the browser's binding cookie: only that browser continues it. */
  readonly browser: string;
  /** The consent form's anti-forgery value. */
  readonly formToken: string;
  readonly login: { readonly nonce: string; readonly verifier: string };
  readonly person?: Person;
  /** The identity provider's refresh token, sealed (sealed-secret.ts), when it gave one and a key is configured. */
  readonly upstream?: string;
  /** For a sign-in to a page of the person's own (no request): the path it returns to. */
  readonly returnTo?: string;
}

export interface CodeRecord {
  readonly request: AuthorizationRequest;
  readonly person: Person;
  /** The identity provider's refresh token, sealed, for the grant this code starts. */
  readonly upstream?: string;
  /** Set once the code was redeemed: the family it started (a second redemption revokes it). */
  readonly redeemedBy?: string;
}

export interface FamilyRecord {
  readonly id: string;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly resource: string;
  readonly person: Person;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The identity provider's refresh token (sealed) and when the provider last said the person is signed in. */
  readonly upstream?: { readonly sealed: string; readonly checkedAt: number };
}

export interface RefreshRecord {
  readonly family: string;
  readonly used: boolean;
}

/** A client a person allowed, and the grants (refresh families) it holds. */
export interface ClientGrant {
  readonly clientId: string;
  readonly clientName: string | undefined;
  readonly scope: readonly string[];
  /** When the person last allowed it (ms); undefined when only a grant is recorded. */
  readonly consentedAt: number | undefined;
  readonly families: readonly string[];
}

/** What one person allowed, by client id. */
export interface PersonRecord {
  readonly grants: Readonly<Record<string, ClientGrant>>;
}

/** A person signed in to see and withdraw what they allowed: kept under the SHA-256 of the browser's cookie. */
export interface ManagerRecord {
  readonly person: Person;
  readonly formToken: string;
}

export interface ConsentRecord {
  readonly scope: readonly string[];
  readonly at: number;
}

/** A random token of `bytes` bytes, base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** A typed view of one kind of record (`prefix`) in the grants. */
export class RecordKind<T> {
  readonly #grants: GrantStore;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(grants: GrantStore, prefix: string, now: () => number) {
    this.#grants = grants;
    this.#prefix = prefix;
    this.#now = now;
  }

  add(key: string, value: T, expiresAt: number): Promise<boolean> {
    return this.#grants.add(this.#prefix + key, JSON.stringify(value), expiresAt, this.#now());
  }

  /** The record and the exact text it is kept as (what `replace` compares). */
  async read(key: string): Promise<{ value: T; text: string } | undefined> {
    const text = await this.#grants.get(this.#prefix + key, this.#now());
    return text === undefined ? undefined : { value: JSON.parse(text) as T, text };
  }

  /** Whether a record is kept under `key` (nothing parsed: the request path asks this of every token's family). */
  async has(key: string): Promise<boolean> {
    return (await this.#grants.get(this.#prefix + key, this.#now())) !== undefined;
  }

  async get(key: string): Promise<T | undefined> {
    return (await this.read(key))?.value;
  }

  /** Replaces the record read as `read.text` (forgets it when `next` is undefined): true when this caller did. */
  replace(key: string, read: { text: string }, next: T | undefined, expiresAt: number): Promise<boolean> {
    return this.#grants.swap(this.#prefix + key, read.text, next === undefined ? undefined : JSON.stringify(next), expiresAt, this.#now());
  }

  /** Forgets the record, whatever it holds now. */
  async remove(key: string): Promise<void> {
    const read = await this.read(key);
    if (read) await this.replace(key, read, undefined, 0);
  }
}

/** Every kind the authorization server keeps. */
export class GrantRecords {
  readonly clients: RecordKind<ClientRecord>;
  readonly signIns: RecordKind<SignIn>;
  readonly codes: RecordKind<CodeRecord>;
  readonly families: RecordKind<FamilyRecord>;
  readonly refreshTokens: RecordKind<RefreshRecord>;
  readonly consents: RecordKind<ConsentRecord>;
  /** Per person, what they allowed (person-grants.ts). */
  readonly people: RecordKind<PersonRecord>;
  /** A person's page of what they allowed, signed in (grants-page.ts). */
  readonly managers: RecordKind<ManagerRecord>;

  constructor(grants: GrantStore, now: () => number) {
    this.clients = new RecordKind(grants, 'client:', now);
    this.signIns = new RecordKind(grants, 'signin:', now);
    this.codes = new RecordKind(grants, 'code:', now);
    this.families = new RecordKind(grants, 'family:', now);
    this.refreshTokens = new RecordKind(grants, 'refresh:', now);
    this.consents = new RecordKind(grants, 'consent:', now);
    this.people = new RecordKind(grants, 'person:', now);
    this.managers = new RecordKind(grants, 'manager:', now);
  }
}
