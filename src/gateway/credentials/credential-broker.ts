/**
 * @module gateway/credentials/credential-broker
 * Each person's own credentials for the upstream (docs/CREDENTIALS.md): the caller's
 * connection is read from the vault and its access token held here, renewed before it expires
 * with its refresh token, once for every replica (a lease in the store), and a connection the
 * authorization server no longer honours is forgotten so the person is asked to connect again.
 * A held token costs the request path one map look-up; the vault is read again every
 * `RECHECK_MS` so a disconnection on another replica takes effect.
 */
import { randomBytes } from 'node:crypto';
import type { EventSink } from '../audit-events.js';
import type { GrantStore } from '../../store/grant-store.js';
import type { SessionStore } from '../../store/store.js';
import { OptionError } from '../../protocol/options.js';
import { sha256 } from '../authorization-server/grant-records.js';
import { SecretSealer } from '../authorization-server/sealed-secret.js';
import { AuthorizationServerUnavailable, GrantRefused, UpstreamOAuth, type UpstreamOAuthOptions } from './upstream-oauth.js';
import { type Connection, type ConnectionSummary, type UpstreamTokens, Vault } from './vault.js';
import type { Identity } from '../../server/application.js';

/**
 * The policy's word on a person connecting a server or using their connection: why not, or
 * undefined when they may (docs/POLICY.md, "Connections").
 */
export type ConnectionPolicy = (claims: Readonly<Record<string, unknown>>, principal: string, server: string) => string | undefined;

export interface CredentialBrokerOptions extends Omit<UpstreamOAuthOptions, 'resource'> {
  /** The upstream server's URL: the resource OAuth tokens are asked for. Required for `oauth`. */
  resource?: string | undefined;
  /**
   * `oauth`: each person's grant at the upstream's authorization server (connected in the
   * browser, renewed). `secret`: a key each person pastes once on their page (for servers
   * without OAuth), sent in `secretHeader`. Default 'oauth'.
   */
  kind?: 'oauth' | 'secret' | undefined;
  /** `secret`: the header it goes in (`authorization` sends it as a bearer token). Default 'authorization'. */
  secretHeader?: string | undefined;
  /** The upstream's name on the pages and in the audit. Default: its URL's host (`upstream` without one). */
  server?: string | undefined;
  /**
   * For a stdio server: the `_meta` key of each request's params the credential goes in
   * (instead of a header). Default: none (a header).
   */
  metaKey?: string | undefined;
  /** The operator's key(s) sealing the vault (`--secrets-key-file`: one key a line, the first seals). Required. */
  secretsKey: string;
  /** How long a connection that can be refreshed is kept after its last refresh, ms. Default 90 days. */
  connectionMs?: number | undefined;
}

/** Why no token can be sent for a caller. */
export class ConnectionRequired extends Error {
  constructor(readonly server: string) {
    super(`the caller has not connected ${server}`);
    this.name = 'ConnectionRequired';
  }
}

/** How often a held token is checked against the vault (a disconnection made on another replica). */
export const RECHECK_MS = 10_000;
/** A token is renewed this long before it expires at most (less for short-lived tokens: half their life). */
const RENEW_BEFORE_MS = 60_000;
/** How long one replica may hold the right to refresh a connection. */
const LEASE_MS = 15_000;
const LEASE_POLL_MS = 100;
const HELD_MAX = 10_000;

interface Held {
  readonly authorization: string;
  /** The credential itself (for a `_meta` key). */
  readonly credential: string;
  /** Read from the vault again from then on. */
  readonly until: number;
}

interface Parts {
  readonly vault: Vault;
  /** `oauth` only. */
  readonly oauth: UpstreamOAuth | undefined;
  readonly grants: GrantStore;
  readonly events: EventSink;
}

export class CredentialBroker {
  readonly server: string;
  readonly kind: 'oauth' | 'secret';
  /** The upstream header a person's credential goes in. */
  readonly header: string;
  /** Or the `_meta` key of each request it goes in (a stdio server). */
  readonly metaKey: string | undefined;
  readonly #options: CredentialBrokerOptions;
  readonly #sealer: SecretSealer;
  readonly #held = new Map<string, Held>();
  readonly #loading = new Map<string, Promise<void>>();
  #parts: Parts | undefined;
  #origin: string | undefined;
  #onConnected: (principal: string) => void = () => {};
  #policy: ConnectionPolicy = () => undefined;

  constructor(options: CredentialBrokerOptions) {
    this.kind = options.kind ?? 'oauth';
    const { resource } = options;
    if (resource === undefined ? this.kind === 'oauth' : !URL.canParse(resource))
      throw new OptionError('resource', 'sessiongate: option "resource" must be a URL (the upstream OAuth tokens are for)');
    this.#options = options;
    this.server = options.server ?? (resource === undefined ? 'upstream' : new URL(resource).host);
    this.metaKey = options.metaKey;
    this.header = this.kind === 'secret' ? (options.secretHeader ?? 'authorization').toLowerCase() : 'authorization';
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(this.header))
      throw new OptionError('secretHeader', 'sessiongate: option "secretHeader" must be a header name');
    this.#sealer = SecretSealer.fromText(options.secretsKey);
  }

  /** Given the gateway's store and audit when the gateway is assembled. */
  attach(store: SessionStore, events: EventSink): void {
    if (!store.grants)
      throw new OptionError(
        'credentials',
        'sessiongate: per-person credentials need a store that keeps grants (memory, SQLite and Redis do)',
      );
    const now = (): number => Date.now();
    const vault = new Vault(store.grants, this.#sealer, this.#options.connectionMs ?? 90 * 24 * 3600_000, now);
    const { resource } = this.#options;
    const oauth =
      this.kind === 'oauth' && resource !== undefined
        ? new UpstreamOAuth(
            { ...this.#options, resource },
            store.grants,
            () => this.callbackUrl,
            () => this.documentUrl,
          )
        : undefined;
    this.#parts = { vault, oauth, grants: store.grants, events };
  }

  /** Told the gateway's public origin once it listens (its pages' URLs); returns lines for a start-up summary. */
  listening(origin: string): string[] {
    this.#origin = origin;
    return [`  upstream credentials: each person's own for ${this.server}, connected at ${origin}${CONNECTIONS_PATHS.page}`];
  }

  /** Where the upstream's authorization server sends people back. */
  get callbackUrl(): string {
    return `${this.#listeningOrigin()}${CONNECTIONS_PATHS.callback}`;
  }

  /**
   * Where the gateway publishes its OAuth client metadata document (connection-pages.ts), when
   * its public URL is https (the only kind an authorization server fetches); else undefined.
   */
  get documentUrl(): string | undefined {
    const origin = this.#origin;
    return origin?.startsWith('https://') ? `${origin}${CONNECTIONS_PATHS.client}` : undefined;
  }

  /** The page that connects the server (what a caller without a connection is told to open). */
  get connectUrl(): string {
    return `${this.#listeningOrigin()}${CONNECTIONS_PATHS.connect}?server=${encodeURIComponent(this.server)}`;
  }

  #listeningOrigin(): string {
    if (this.#origin === undefined) throw new AuthorizationServerUnavailable('the gateway does not listen yet');
    return this.#origin;
  }

  get parts(): Parts {
    if (!this.#parts) throw new Error('the credential broker was not attached to a store');
    return this.#parts;
  }

  /** Fails with one line when the vault was sealed under keys the operator did not give. */
  checkKey(): Promise<void> {
    return this.parts.vault.checkKey();
  }

  /**
   * Makes sure a token of `principal`'s is held: undefined at once when one is; else a promise
   * that rejects with ConnectionRequired (never connected, or asked to connect again), or with
   * AuthorizationServerUnavailable (expired, and its renewal could not be asked for).
   */
  ready(principal: string, now = Date.now()): Promise<void> | undefined {
    const held = this.#held.get(principal);
    if (held !== undefined && held.until > now) return undefined;
    let loading = this.#loading.get(principal);
    if (loading === undefined) {
      loading = this.#load(principal).finally(() => this.#loading.delete(principal));
      this.#loading.set(principal, loading);
    }
    return loading;
  }

  /**
   * The `Authorization` for the caller's requests upstream, once `ready` settled; undefined
   * without one, or when the policy forbids them this connection (docs/POLICY.md, "Connections").
   */
  authorization(identity: Identity | undefined): string | undefined {
    return this.#usable(identity)?.authorization;
  }

  /** The caller's credential itself (a stdio server's `_meta` key), on the same terms. */
  credential(identity: Identity | undefined): string | undefined {
    return this.#usable(identity)?.credential;
  }

  /** Told the policy once the gateway is assembled (connections.ts). */
  governedBy(policy: ConnectionPolicy): void {
    this.#policy = policy;
  }

  /** Why the policy forbids the person this server's connection (to make or to use); undefined when it does not. */
  refusal(identity: Identity): string | undefined {
    return this.#policy(identity.claims, identity.principal, this.server);
  }

  #usable(identity: Identity | undefined): Held | undefined {
    if (identity === undefined) return undefined;
    const held = this.#held.get(identity.principal);
    return held && this.refusal(identity) === undefined ? held : undefined;
  }

  /** Calls `listener` when a person connected this server here (connections.ts: their sessions are told their lists changed). */
  onConnected(listener: (principal: string) => void): void {
    this.#onConnected = listener;
  }

  /** What `principal` connected (this one server), tokens left sealed. */
  list(principal: string): Promise<ConnectionSummary[]> {
    return this.parts.vault.list(principal, [this.server]);
  }

  /** Keeps a new connection (the person authorized it in their browser). */
  async connect(principal: string, person: string, tokens: UpstreamTokens): Promise<void> {
    const { vault, oauth, events } = this.parts;
    const replaced = await vault.read(principal, this.server);
    await vault.connect(principal, this.server, person, tokens);
    this.#held.delete(principal);
    events.write({ event: 'credentials', action: 'connected', server: this.server, person });
    this.#onConnected(principal);
    // The grant it replaces is no longer wanted: the authorization server is told so (RFC 7009).
    if (replaced && replaced.tokens.refreshToken !== tokens.refreshToken)
      await oauth?.revoke(replaced.tokens.refreshToken ?? replaced.tokens.accessToken);
  }

  /** Forgets the connection and tells the authorization server so: true when there was one. */
  async disconnect(principal: string, by: 'person' | 'operator'): Promise<boolean> {
    const { vault, oauth, events } = this.parts;
    const read = await vault.read(principal, this.server);
    const gone = await vault.disconnect(principal, this.server, read);
    this.#held.delete(principal);
    if (!gone || !read) return gone;
    const { refreshToken, accessToken } = read.tokens;
    await oauth?.revoke(refreshToken ?? accessToken);
    events.write({ event: 'credentials', action: 'disconnected', server: this.server, person: read.person, by });
    return true;
  }

  async #load(principal: string): Promise<void> {
    const now = Date.now();
    let connection = await this.parts.vault.read(principal, this.server);
    if (connection && renewAt(connection) <= now) connection = await this.#renewed(principal, connection);
    if (!connection) {
      this.#held.delete(principal);
      throw new ConnectionRequired(this.server);
    }
    const credential = connection.tokens.accessToken;
    this.#hold(principal, {
      authorization: this.header === 'authorization' ? `Bearer ${credential}` : credential,
      credential,
      until: Math.min(now + RECHECK_MS, renewAt(connection)),
    });
  }

  /**
   * The connection with a token renewed, by this replica or another (the one holding the lease);
   * undefined when it can no longer be renewed (the person must connect again).
   */
  async #renewed(principal: string, read: Connection): Promise<Connection | undefined> {
    const { grants, vault } = this.parts;
    const lease = `vault-lease:${sha256(JSON.stringify([principal, this.server]))}`;
    const mine = randomBytes(16).toString('base64url');
    const started = Date.now();
    if (!(await grants.add(lease, mine, started + LEASE_MS, started))) {
      // Another replica (or an earlier call here) renews it: its result is read from the vault.
      while (Date.now() - started < LEASE_MS) {
        await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
        const now = await vault.read(principal, this.server);
        if (!now || now.text !== read.text) return now;
        if ((await grants.get(lease, Date.now())) === undefined) return this.#renewed(principal, now);
      }
      return usable(read) ? read : undefined;
    }
    try {
      // Read again under the lease: a renewal that landed just before needs no other.
      const current = await vault.read(principal, this.server);
      if (!current || renewAt(current) > Date.now()) return current;
      return await this.#refresh(principal, current);
    } finally {
      await grants.swap(lease, mine, undefined, 0, Date.now());
    }
  }

  async #refresh(principal: string, current: Connection): Promise<Connection | undefined> {
    const { vault, oauth, events } = this.parts;
    const refreshToken = current.tokens.refreshToken;
    try {
      if (refreshToken === undefined) {
        if (usable(current)) return current;
        throw new GrantRefused('the token expired and the server gave no refresh token');
      }
      if (!oauth) throw new GrantRefused('a key is not renewed');
      const tokens = await oauth.refresh(refreshToken);
      if (!(await vault.refreshed(principal, current, tokens))) return await vault.read(principal, this.server);
      events.write({ event: 'credentials', action: 'refreshed', server: this.server, person: current.person });
      return await vault.read(principal, this.server);
    } catch (error) {
      if (error instanceof GrantRefused) {
        await vault.disconnect(principal, this.server, current);
        events.write({ event: 'credentials', action: 'refresh.failed', server: this.server, person: current.person, reason: error.reason });
        return undefined;
      }
      // The authorization server cannot be asked now: a token not yet expired still serves.
      if (usable(current)) return current;
      throw error instanceof AuthorizationServerUnavailable ? error : new AuthorizationServerUnavailable((error as Error).message);
    }
  }

  #hold(principal: string, held: Held): void {
    this.#held.delete(principal);
    if (this.#held.size >= HELD_MAX) this.#held.delete(this.#held.keys().next().value!);
    this.#held.set(principal, held);
  }
}

/** The paths of the person's pages (connection-pages.ts). */
export const CONNECTIONS_PATHS = {
  page: '/connections',
  connect: '/connections/connect',
  callback: '/connections/callback',
  client: '/connections/client-metadata.json',
} as const;

/** When the connection's token is to be renewed: before it expires by a minute, or half its life when shorter. */
function renewAt(connection: Connection): number {
  const expiresAt = connection.tokens.expiresAt;
  if (expiresAt === undefined) return Infinity;
  const life = expiresAt - connection.refreshedAt;
  return expiresAt - Math.min(RENEW_BEFORE_MS, Math.max(life / 2, 0));
}

function usable(connection: Connection): boolean {
  return (connection.tokens.expiresAt ?? Infinity) > Date.now();
}
