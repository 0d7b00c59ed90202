/**
 * @module gateway/credentials/vault
 * Each person's credentials for each upstream server (docs/CREDENTIALS.md, "The vault"), in the
 * store's grants so a restart and every replica see them. Envelope encryption: every record has
 * a data key of its own that seals its tokens (AES-256-GCM), and only that data key is sealed
 * under the operator's key (`--secrets-key-file`); rotating the operator's key re-seals data
 * keys as records are read, never asking anyone to connect again. Both seals name the record
 * they belong to, so a sealed value copied into another person's record does not open.
 */
import { randomBytes } from 'node:crypto';
import { OptionError } from '../../protocol/options.js';
import type { GrantStore } from '../../store/grant-store.js';
import { sha256 } from '../authorization-server/grant-records.js';
import { SecretSealer } from '../authorization-server/sealed-secret.js';

/** A person's tokens for one server, as its authorization server issued them. */
export interface UpstreamTokens {
  readonly accessToken: string;
  readonly refreshToken?: string | undefined;
  /** When the access token expires (ms since the epoch); undefined when the server did not say. */
  readonly expiresAt?: number | undefined;
  readonly scope?: string | undefined;
}

/** What is kept: everything but the tokens in clear, for listing without opening anything. */
interface StoredConnection {
  readonly server: string;
  readonly person: string;
  readonly connectedAt: number;
  readonly refreshedAt: number;
  readonly expiresAt: number | null;
  /** The record's data key, sealed under the operator's key. */
  readonly key: string;
  /** The tokens (JSON), sealed under the data key. */
  readonly tokens: string;
}

/** One person's connection to one server, opened. */
export interface Connection {
  readonly server: string;
  /** How the person is named on pages and in the audit (never a credential). */
  readonly person: string;
  readonly connectedAt: number;
  readonly refreshedAt: number;
  readonly tokens: UpstreamTokens;
  /** The record as read (what a compare-and-set compares). */
  readonly text: string;
}

/** What a listing shows of a connection: never its tokens. */
export type ConnectionSummary = Omit<Connection, 'tokens' | 'text'> & { readonly expiresAt: number | null };

const PREFIX = 'vault:';
const KEY_CHECK = 'vault-key-check';
const KEY_CHECK_TEXT = 'sessiongate vault';
const CENTURY_MS = 100 * 365 * 24 * 3600_000;
/** Compare-and-set tries of a new connection before it gives up. */
const CONNECT_TRIES = 8;

export class Vault {
  readonly #grants: GrantStore;
  readonly #sealer: SecretSealer;
  readonly #keepMs: number;
  readonly #now: () => number;

  /** `keepMs`: how long a connection with a refresh token is kept after its last refresh. */
  constructor(grants: GrantStore, sealer: SecretSealer, keepMs: number, now: () => number) {
    this.#grants = grants;
    this.#sealer = sealer;
    this.#keepMs = keepMs;
    this.#now = now;
  }

  /**
   * Fails when the operator's keys cannot open what this store's vault was sealed with (a wrong
   * `--secrets-key-file`): at start, with one line, not at the first person's call.
   */
  async checkKey(): Promise<void> {
    const now = this.#now();
    const kept = await this.#grants.get(KEY_CHECK, now);
    if (kept === undefined) {
      if (await this.#grants.add(KEY_CHECK, this.#sealer.seal(KEY_CHECK_TEXT, KEY_CHECK), now + CENTURY_MS, now)) return;
      return this.checkKey();
    }
    if (this.#sealer.open(kept, KEY_CHECK) !== KEY_CHECK_TEXT)
      throw new OptionError(
        'secretsKey',
        `sessiongate: the secrets key does not open this store's vault (sealed under key ${SecretSealer.keyIdOf(kept) ?? '?'}, the file's first key is ${this.#sealer.currentKeyId}); give the key it was sealed with, or the new key first and the old one after it to rotate`,
      );
    if (!this.#sealer.sealedUnderCurrent(kept))
      await this.#grants.swap(KEY_CHECK, kept, this.#sealer.seal(KEY_CHECK_TEXT, KEY_CHECK), now + CENTURY_MS, now);
  }

  /** The person's connection to `server`; undefined when there is none (or none that opens). */
  async read(principal: string, server: string): Promise<Connection | undefined> {
    const id = recordId(principal, server);
    const text = await this.#grants.get(id, this.#now());
    if (text === undefined) return undefined;
    const stored = JSON.parse(text) as StoredConnection;
    const dataKey = this.#sealer.openBytes(stored.key, id);
    const tokens = dataKey && new SecretSealer(dataKey).open(stored.tokens, id);
    if (tokens === undefined) return undefined;
    const connection = { ...summaryOf(stored), tokens: JSON.parse(tokens) as UpstreamTokens, text };
    if (this.#sealer.sealedUnderCurrent(stored.key)) return connection;
    // Sealed under a key rotated out: its data key is sealed again under the current one.
    const next = JSON.stringify({ ...stored, key: this.#sealer.seal(dataKey!, id) });
    const resealed = await this.#grants.swap(
      id,
      text,
      next,
      this.#keepUntil(stored.expiresAt, stored.refreshedAt, connection.tokens),
      this.#now(),
    );
    return resealed ? { ...connection, text: next } : connection;
  }

  /** A listing of what `principal` connected among `servers`, tokens left sealed. */
  async list(principal: string, servers: readonly string[]): Promise<ConnectionSummary[]> {
    const found: ConnectionSummary[] = [];
    for (const server of servers) {
      const text = await this.#grants.get(recordId(principal, server), this.#now());
      if (text !== undefined) found.push(summaryOf(JSON.parse(text) as StoredConnection));
    }
    return found;
  }

  /** Keeps the person's new connection, in place of any before. */
  async connect(principal: string, server: string, person: string, tokens: UpstreamTokens): Promise<void> {
    const id = recordId(principal, server);
    const now = this.#now();
    const next = this.#sealed(id, { server, person, connectedAt: now, refreshedAt: now }, tokens);
    const keepUntil = this.#keepUntil(tokens.expiresAt ?? null, now, tokens);
    // Compare-and-set, tried again while another writer (a renewal on another replica) changes the record.
    for (let tries = 0; tries < CONNECT_TRIES; tries++) {
      const kept = await this.#grants.get(id, now);
      if (kept === undefined ? await this.#grants.add(id, next, keepUntil, now) : await this.#grants.swap(id, kept, next, keepUntil, now))
        return;
    }
    throw new Error('the connection changed too often to be kept; try again');
  }

  /** Replaces the tokens of the connection read as `read` (a refresh): false when it changed meanwhile. */
  refreshed(principal: string, read: Connection, tokens: UpstreamTokens): Promise<boolean> {
    const id = recordId(principal, read.server);
    const now = this.#now();
    const next = this.#sealed(id, { server: read.server, person: read.person, connectedAt: read.connectedAt, refreshedAt: now }, tokens);
    return this.#grants.swap(id, read.text, next, this.#keepUntil(tokens.expiresAt ?? null, now, tokens), now);
  }

  /** Forgets the connection (as read, when given: only if it did not change meanwhile). */
  async disconnect(principal: string, server: string, read?: Connection): Promise<boolean> {
    const id = recordId(principal, server);
    const text = read?.text ?? (await this.#grants.get(id, this.#now()));
    return text !== undefined && (await this.#grants.swap(id, text, undefined, 0, this.#now()));
  }

  #sealed(id: string, about: Omit<StoredConnection, 'key' | 'tokens' | 'expiresAt'>, tokens: UpstreamTokens): string {
    const dataKey = randomBytes(32);
    const stored: StoredConnection = {
      ...about,
      expiresAt: tokens.expiresAt ?? null,
      key: this.#sealer.seal(dataKey, id),
      tokens: new SecretSealer(dataKey).seal(JSON.stringify(tokens), id),
    };
    dataKey.fill(0);
    return JSON.stringify(stored);
  }

  /** A connection that can be refreshed is kept `keepMs` after its last refresh; one that cannot, until its token expires. */
  #keepUntil(expiresAt: number | null, refreshedAt: number, tokens: UpstreamTokens): number {
    if (tokens.refreshToken !== undefined || expiresAt === null) return refreshedAt + this.#keepMs;
    return expiresAt;
  }
}

function recordId(principal: string, server: string): string {
  return PREFIX + sha256(JSON.stringify([principal, server]));
}

function summaryOf(stored: StoredConnection): ConnectionSummary {
  const { server, person, connectedAt, refreshedAt, expiresAt } = stored;
  return { server, person, connectedAt, refreshedAt, expiresAt };
}
