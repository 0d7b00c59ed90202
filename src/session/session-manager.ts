/**
 * @module session/session-manager
 * The session gate: creates records under the caps, resolves an id for a request (missing,
 * unknown, expired or foreign -> the failures of S3/S4), slides idle expiry coarsely, ends
 * sessions and sweeps expired ones, freeing what the live registry holds for them.
 */
import { SessiongateError } from '../protocol/failures.js';
import type { JsonObject, JsonRpcMessage, JsonValue } from '../protocol/jsonrpc.js';
import { type EndReason, expiryReason, type SessionRecord } from '../store/record.js';
import { MemoryStore } from '../store/memory/index.js';
import type { SessionTable, VictimScope } from '../store/session-table.js';
import type { SessionStore } from '../store/store.js';
import type { StreamLog } from '../store/stream-log.js';
import { type Clock, systemClock } from './clock.js';
import { isWellFormedSessionId, mintSessionId } from './id.js';
import { type DisposeReason, type Disposer, LiveRegistry } from './live-registry.js';
import { type CapPolicy, type ResolvedSessionOptions, resolveSessionOptions, type SessionOptions } from './options.js';
import { PrincipalHasher } from './principal.js';
import { SessionRelay, type StreamSink } from './session-relay.js';

/** What initialize knows when the session is created. */
export interface NewSession {
  /** The authenticated identity (raw; hashed before it is stored), or undefined. */
  identity: string | undefined;
  protocolVersion: string;
  initialize: JsonObject;
  clientSessionId: string | null;
}

export type SessionEndListener = (record: SessionRecord, reason: EndReason) => void;

const SWEEP_BATCH = 1000;
/** Cap evictions one initialize may cause before it gives up with 503 (racing initializes). */
const MAX_EVICTIONS = 3;

function capReached(outcome: 'cap-global' | 'cap-principal', principal: string | null, retryAfterSeconds: number): SessiongateError {
  const whose = outcome === 'cap-global' ? '' : principal === null ? ' of anonymous callers' : ' for this principal';
  return new SessiongateError('SG_SESSION_LIMIT', `Service Unavailable: too many live sessions${whose}`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}

/**
 * Whose session an initialize past a cap may end (docs/limits.md, "Sessions"): past its own
 * principal's cap, its own; past the global cap, its own too, unless 'evict-any' says anyone's.
 */
function victimScope(outcome: 'cap-global' | 'cap-principal', principal: string | null, policy: CapPolicy): VictimScope {
  return outcome === 'cap-global' && policy === 'evict-any' ? 'anyone' : { principal };
}

/** The most of a session's initialize params kept in its record, serialized. */
export const MAX_STORED_INITIALIZE_BYTES = 64 * 1024;

export class SessionManager {
  readonly #store: SessionStore;
  /** The backend's session table: the capability this manager is about (store/session-table.ts). */
  readonly #sessions: SessionTable;
  /** What this process holds for each session (SDK instances, children, links). */
  readonly #live: LiveRegistry;
  /** Messages for a session's GET stream or resource holders, on this replica or another. */
  readonly #relay: SessionRelay;
  readonly #policy: ResolvedSessionOptions;
  readonly #clock: Clock;
  readonly #principals: PrincipalHasher;
  readonly #onError: (error: unknown) => void;
  readonly #endListeners = new Set<SessionEndListener>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Ownership epochs this replica holds (sessions whose process-local resources live here). */
  readonly #claims = new Map<string, number>();
  readonly #unsubscribe: (() => void) | undefined;
  #sweeping: Promise<number> | undefined;
  /** Sessions with a request in flight or a GET stream open here, and how many of each. */
  readonly #busy = new Map<string, number>();
  readonly #releaseListeners = new Set<(id: string, reason: EndReason) => void>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(options: SessionOptions = {}) {
    this.#policy = resolveSessionOptions(options);
    this.#store = options.store ?? new MemoryStore();
    this.#sessions = this.#store.sessions;
    this.#clock = options.clock ?? systemClock;
    this.#onError = options.onError ?? (() => {});
    this.#live = new LiveRegistry(this.#onError);
    this.#relay = new SessionRelay(this.#store.bus, this.#clock);
    this.#principals = new PrincipalHasher(this.#store.secrets, options.principalKey);
    this.#unsubscribe = this.#store.bus?.subscribe({
      // Another replica ended a session: free what this one holds for it (its child, its link).
      message: (message) => {
        if (message.kind === 'ended') void this.#letGo(message.id, message.reason);
        else if (message.kind === 'moved' && (this.#claims.get(message.id) ?? 0) < message.epoch) void this.#letGo(message.id, 'moved');
      },
    });
    if (this.#policy.sweepIntervalMs > 0) {
      this.#timer = setInterval(() => void this.sweep(), this.#policy.sweepIntervalMs);
      this.#timer.unref();
    }
  }

  /** Where errors of background work go (the `onError` option). */
  get report(): (error: unknown) => void {
    return this.#onError;
  }

  now(): number {
    return this.#clock.now();
  }

  /** Listen for sessions that ended (deleted, expired, ...). Returns an unsubscribe function. */
  onEnd(listener: SessionEndListener): () => void {
    this.#endListeners.add(listener);
    return () => this.#endListeners.delete(listener);
  }

  /** The keyed hash stored for `identity` (null when anonymous). */
  principalOf(identity: string | undefined): Promise<string | null> {
    return this.#principals.hash(identity);
  }

  /** Mints and stores a session, atomically under both caps (503 past them). */
  async create(init: NewSession): Promise<SessionRecord> {
    const record = this.#newRecord(mintSessionId(), await this.#principals.hash(init.identity), init);
    // 192 random bits do not collide; a duplicate means a broken random source.
    if (!(await this.#insert(record))) throw new Error('sessiongate: minted a duplicate session id');
    return record;
  }

  /**
   * Stores a session under a chosen id unless one with that id exists (then undefined): the
   * atomic claim that makes one conversation get one session, however many first requests race
   * for it, on every replica sharing the store. Caps apply as for `create`.
   */
  async createOnce(id: string, principal: string | null, init: Omit<NewSession, 'identity'>): Promise<SessionRecord | undefined> {
    const record = this.#newRecord(id, principal, init);
    return (await this.#insert(record)) ? record : undefined;
  }

  /**
   * A session id derived from a conversation key (a principal and a client correlation id): a
   * keyed hash, so the same on every replica, unguessable without the store's secret, and of
   * the shape `mintSessionId` produces.
   */
  conversationId(principal: string | null, key: string): Promise<string> {
    return this.#principals.hash(`sessiongate-conversation\0${principal ?? ''}\0${key}`) as Promise<string>;
  }

  #newRecord(id: string, principal: string | null, init: Omit<NewSession, 'identity'>): SessionRecord {
    // Kept for the session's life (and replayed on recovery): bounded by bytes, not only by the
    // body limit (docs/limits.md, "Sessions": 362 initializes of ~3.9 MB once exhausted memory).
    if (Buffer.byteLength(JSON.stringify(init.initialize)) > MAX_STORED_INITIALIZE_BYTES) {
      throw new SessiongateError('SG_INITIALIZE_TOO_LARGE');
    }
    const now = this.now();
    const policy = this.#policy;
    return {
      id,
      principal,
      protocolVersion: init.protocolVersion,
      initialize: init.initialize,
      clientSessionId: init.clientSessionId,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + policy.idleTimeoutMs,
      absoluteExpiresAt: now + policy.maxLifetimeMs,
      state: {},
    };
  }

  /** Inserts under the caps (evicting when so configured); false when the id exists. */
  async #insert(record: SessionRecord): Promise<boolean> {
    const policy = this.#policy;
    const now = this.now();
    for (let evictions = 0; ; evictions++) {
      const outcome = await this.#sessions.create(record, policy, now);
      if (outcome === 'created') return true;
      if (outcome === 'duplicate') return false;
      const refusal = capReached(outcome, record.principal, policy.capRetryAfterSeconds);
      if (policy.onCap === 'reject' || evictions === MAX_EVICTIONS) throw refusal;
      // Another initialize may take the freed slot first; a few rounds settle it, then 503.
      const victim = await this.#sessions.soonestToExpire(victimScope(outcome, record.principal, policy.onCap), now);
      if (victim === undefined) throw refusal;
      // The slot is free once the record is gone; its resources (a child's SIGTERM grace) are
      // freed meanwhile, so racing initializes do not evict more while this one waits.
      const evicted = await this.#sessions.delete(victim);
      void this.#release(victim, evicted, 'cap');
    }
  }

  /**
   * The live record for a request's session id. S4 and Security Best Practices: unknown,
   * expired, terminated and foreign-principal ids all fail the same way (404), so the answer
   * reveals nothing.
   */
  resolve(id: string, identity: string | undefined): Promise<SessionRecord> {
    // Anonymous callers need no hashing (and no extra await) on the hot path.
    if (identity === undefined) return this.resolveFor(id, null);
    const hashed = this.#principals.hash(identity);
    hashed.catch(() => {}); // awaited (and its failure reported) in resolveFor, if a record is found
    return this.resolveFor(id, hashed);
  }

  /** `resolve` for a caller known by its principal hash (the gateway's own conversations). */
  async resolveFor(id: string, principalHash: string | null | Promise<string | null>): Promise<SessionRecord> {
    if (!isWellFormedSessionId(id)) throw new SessiongateError('SG_SESSION_NOT_FOUND');
    const now = this.now();
    const record = await this.#sessions.get(id, now);
    if (!record) {
      if (this.#live.has(id)) void this.#collect(id);
      throw new SessiongateError('SG_SESSION_NOT_FOUND');
    }
    const principal = principalHash instanceof Promise ? await principalHash : principalHash;
    if (record.principal !== principal) {
      throw new SessiongateError('SG_SESSION_NOT_FOUND');
    }
    // Coarse sliding expiry: a store write only once a fraction of the idle window has passed.
    if (now - record.lastSeenAt >= this.#policy.touchIntervalMs) {
      const idleExpiresAt = now + this.#policy.idleTimeoutMs;
      if (!(await this.#sessions.touch(id, now, idleExpiresAt))) throw new SessiongateError('SG_SESSION_NOT_FOUND');
      return { ...record, lastSeenAt: now, idleExpiresAt };
    }
    return record;
  }

  /**
   * Marks a session as working (a request in flight, a GET stream open) until the returned
   * function is called. A working session is not idle: its idle deadline is written ahead while
   * it works (a third of the idle timeout at a time, so every replica's sweep sees it), and its
   * idle clock starts when the last of its work ends (docs/limits.md, "Sessions").
   */
  busy(id: string): () => void {
    this.#busy.set(id, (this.#busy.get(id) ?? 0) + 1);
    if (this.#heartbeat === undefined) {
      this.#heartbeat = setInterval(() => this.#keepBusyAlive(), Math.max(this.#policy.idleTimeoutMs / 3, 10));
      this.#heartbeat.unref();
    }
    const since = this.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.#busy.get(id)! - 1;
      if (left > 0) return void this.#busy.set(id, left);
      this.#busy.delete(id);
      // Short work needs no write: the touch at its start is within the documented slack.
      if (this.now() - since >= this.#policy.touchIntervalMs) void this.#touch(id);
    };
  }

  #keepBusyAlive(): void {
    if (this.#busy.size === 0) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = undefined;
      return;
    }
    for (const id of this.#busy.keys()) void this.#touch(id);
  }

  async #touch(id: string): Promise<void> {
    const now = this.now();
    try {
      await this.#sessions.touch(id, now, now + this.#policy.idleTimeoutMs);
    } catch (error) {
      this.#onError(error);
    }
  }

  /** Sets one key of a session's state (undefined removes it); other replicas are told to drop cached copies. */
  async writeState(id: string, key: string, value: JsonValue | undefined): Promise<boolean> {
    const written = await this.#sessions.writeState(id, key, value);
    this.#store.bus?.publish({ kind: 'changed', id });
    return written;
  }

  /** Sets the protocol version initialize agreed on (the application's answer may differ from the request). */
  setProtocolVersion(id: string, protocolVersion: string): Promise<boolean> {
    return this.#sessions.setProtocolVersion(id, protocolVersion);
  }

  /** A live record by id alone, whoever owns it: for operators (the admin API), never for a caller's request. */
  peek(id: string): Promise<SessionRecord | undefined> {
    return isWellFormedSessionId(id) ? this.#sessions.get(id, this.now()) : Promise.resolve(undefined);
  }

  /** A page of live sessions (see SessionStore.list). */
  list(cursor: string | undefined, limit: number): Promise<{ records: SessionRecord[]; next: string | undefined }> {
    return this.#sessions.list(cursor, limit, this.now());
  }

  /** Live (not yet swept) sessions in the store. */
  count(): Promise<number> {
    return this.#sessions.count();
  }

  /** A secret every process on this backend shares (created on first use; store/secret-store.ts). */
  sharedSecret(name: string, create: () => string): Promise<string> {
    return this.#store.secrets.shared(name, create);
  }

  /** The store's event log of resumable streams, if it keeps one. */
  get streamLog(): StreamLog | undefined {
    return this.#store.streamLog;
  }

  /** Sessions this process holds resources for. */
  get heldHere(): number {
    return this.#live.size;
  }

  /** Messages waiting for a GET stream that is not open (see SessionRelay). */
  get undelivered(): number {
    return this.#relay.undelivered;
  }

  /** Registers a process-local resource of a session, disposed when the session ends (any reason). */
  attach(id: string, disposer: Disposer): () => void {
    return this.#live.attach(id, disposer);
  }

  /** Forgets a resource registered with `attach` without disposing it. */
  detach(id: string, disposer: Disposer): void {
    this.#live.detach(id, disposer);
  }

  /** The session's resource registered in this process that `match` accepts. */
  resource(id: string, match: (resource: Disposer) => boolean): Disposer | undefined {
    return this.#live.find(id, match);
  }

  /** Sends to the session's GET stream, on this replica or another (see SessionRelay.toStream). */
  toStream(id: string, message: JsonRpcMessage): Promise<boolean> {
    return this.#relay.toStream(id, message);
  }

  /** Opens the session's GET stream here into `sink`; the returned function closes it. */
  openStream(id: string, sink: StreamSink): () => void {
    return this.#relay.openStream(id, sink);
  }

  /** Takes the client messages other replicas relay for the session (see SessionRelay.hold). */
  hold(id: string, deliver: (message: JsonRpcMessage) => void): () => void {
    return this.#relay.hold(id, deliver);
  }

  /** Hands a client message to the replicas holding the session's resources; false when none does. */
  toHolders(id: string, message: JsonRpcMessage): Promise<boolean> {
    return this.#relay.toHolders(id, message);
  }

  /**
   * Takes the session's process-local resources for this replica (see SessionHandle.claim):
   * an atomic epoch from the store, announced; replicas with an older claim let theirs go.
   * Without a shared store there is nobody to tell.
   */
  async claim(id: string): Promise<void> {
    const bus = this.#store.bus;
    if (!bus) return;
    const epoch = await bus.claim(id);
    if (epoch === 0) return; // ended meanwhile
    this.#claims.set(id, epoch);
    bus.publish({ kind: 'moved', id, epoch });
  }

  /** Ends a session (DELETE, admin, cap eviction). False when it was not live. */
  async end(id: string, reason: EndReason): Promise<boolean> {
    const record = await this.#sessions.delete(id);
    await this.#release(id, record, reason);
    return record !== undefined;
  }

  /**
   * Ends every session (listeners told, resources freed). For shutting down on a store that
   * does not outlive the process, where the sessions really end with it.
   */
  async endAll(reason: EndReason): Promise<void> {
    for (;;) {
      const { records } = await this.#sessions.list(undefined, SWEEP_BATCH, this.now());
      if (records.length === 0) return;
      await Promise.all(records.map((record) => this.end(record.id, reason)));
    }
  }

  /** Removes expired sessions and frees their resources. Returns how many ended. */
  sweep(): Promise<number> {
    // One sweep at a time: a slow store must not pile sweeps up.
    this.#sweeping ??= this.#sweepAll().finally(() => (this.#sweeping = undefined));
    return this.#sweeping;
  }

  /**
   * Stops the sweeper and frees every process-local resource. Records stay in the store:
   * sessions outlive the process when the store is durable.
   */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#busy.clear();
    await this.#sweeping?.catch(() => {});
    this.#relay.endAll();
    await this.#live.disposeAll('shutdown');
  }

  async #sweepAll(): Promise<number> {
    let ended = 0;
    try {
      for (;;) {
        const expired = await this.#sessions.sweepExpired(this.now(), SWEEP_BATCH);
        for (const record of expired) {
          const reason = expiryReason(record);
          this.#tellOthers(record.id, reason);
          await this.#letGo(record.id, reason);
          this.#emitEnd(record, reason);
        }
        ended += expired.length;
        if (expired.length < SWEEP_BATCH) return ended;
      }
    } catch (error) {
      this.#onError(error);
      return ended;
    }
  }

  /** Frees what this process holds for an ended session; tells listeners when this call ended it. */
  async #release(id: string, record: SessionRecord | undefined, reason: EndReason): Promise<void> {
    // Others first: their record caches serve the session until they hear, and freeing what
    // this process holds (a child to stop, an upstream session to DELETE) can take a while.
    if (record) this.#tellOthers(id, reason);
    await this.#letGo(id, reason);
    if (record) this.#emitEnd(record, reason);
  }

  /**
   * `listener(id)` runs in this process whenever a session ends, wherever it was ended (this
   * replica or another); returns a function that stops it.
   */
  onRelease(listener: (id: string, reason: EndReason) => void): () => void {
    this.#releaseListeners.add(listener);
    return () => this.#releaseListeners.delete(listener);
  }

  /** Frees this process's resources of a session (ended, or moved to another replica). */
  #letGo(id: string, reason: DisposeReason): Promise<void> {
    this.#claims.delete(id);
    if (reason !== 'moved') for (const listener of this.#releaseListeners) listener(id, reason);
    // The GET stream is the session's, not the resources': it stays open when they move.
    if (reason !== 'moved') this.#relay.endStream(id);
    return this.#live.dispose(id, reason);
  }

  /** Other replicas may hold resources of a session that ended here (DELETE on B, child on A). */
  #tellOthers(id: string, reason: EndReason): void {
    // At shutdown the sessions of a memory store end with this process only.
    if (reason !== 'shutdown') this.#store.bus?.publish({ kind: 'ended', id, reason });
  }

  /** A request found no record but this process still holds resources for it. */
  async #collect(id: string): Promise<void> {
    await this.sweep();
    // Gone without this process sweeping it (another replica did): free what is left here.
    await this.#letGo(id, 'idle');
  }

  #emitEnd(record: SessionRecord, reason: EndReason): void {
    for (const listener of this.#endListeners) {
      try {
        listener(record, reason);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}
