/**
 * @module gateway/curation/tool-pins
 * The tool definitions the gateway has pinned, per server, in the store every replica shares
 * (docs/CURATION.md, "Pinning"): one record per server under the store's compare-and-set
 * records (`grants`), so two replicas that see a change at once record it once and an
 * operator's acceptance is never lost to a concurrent write. Each process reads a server's
 * record at most once per `refreshMs` for calls (a change seen on one replica is in force on
 * every other within that time); a list that shows something this process has not recorded is
 * decided on a fresh read.
 */
import { z } from 'zod';
import type { JsonObject } from '../../protocol/jsonrpc.js';
import type { GrantStore } from '../../store/grant-store.js';
import { changedFields, type PinnedDefinition } from './pinned-definition.js';

/** How long a pin is kept: for good (the store's records all carry an expiry). */
const KEPT_MS = 100 * 365 * 24 * 3600_000;
/** Compare-and-set attempts before a write gives up (another replica wrote in between every time). */
const ATTEMPTS = 8;
/**
 * The largest record a server's pins may grow to. A server that lists ever more tools (or ever
 * larger ones) past it is not recorded further: its strict tools are withheld (fail closed).
 */
const MAX_RECORD_BYTES = 8 * 1024 * 1024;
const INDEX_KEY = 'sessiongate.pins';
const keyOf = (server: string): string => `sessiongate.pins/${server}`;

const pinnedTool = z.object({
  hash: z.string(),
  definition: z.record(z.string(), z.unknown()).nullable(),
  at: z.number(),
  /** How it became the pin: seen first, accepted by an operator, or from a lock file. */
  by: z.enum(['first-sight', 'operator', 'import']).optional(),
});
const pendingTool = pinnedTool.omit({ by: true }).extend({ change: z.enum(['changed', 'added']), fields: z.array(z.string()) });
/**
 * As stored: tools as [name, entry] pairs sorted by name, never as object keys. Tool names come
 * from the server the pins guard against, and a name like `__proto__` or `constructor` must be
 * a name like any other (docs/SECURITY.md, "Decided on the normal form").
 */
const storedPins = z.object({
  sealed: z.boolean(),
  accepted: z.array(z.tuple([z.string(), pinnedTool])),
  pending: z.array(z.tuple([z.string(), pendingTool])),
});

export type PinnedTool = z.infer<typeof pinnedTool>;
export type PendingTool = z.infer<typeof pendingTool>;

export interface ServerPins {
  /** A complete list (no `nextCursor`) has been seen: a tool that appears after it is an addition, not a first sight. */
  sealed: boolean;
  accepted: Map<string, PinnedTool>;
  pending: Map<string, PendingTool>;
}

/** A change recorded by `observe`: the audit's `tool.changed` line. */
export interface ToolChange {
  server: string;
  tool: string;
  change: PendingTool['change'];
  fields: string[];
  definitionHash: string;
  previousDefinitionHash: string | null;
}

export type Acceptance = 'accepted' | 'stale' | 'unknown';

const emptyPins = (): ServerPins => ({ sealed: false, accepted: new Map(), pending: new Map() });

export class ToolPins {
  readonly #grants: GrantStore;
  readonly #now: () => number;
  readonly #refreshMs: number;
  readonly #cache = new Map<string, { pins: ServerPins; readAt: number }>();

  constructor(grants: GrantStore, now: () => number = Date.now, refreshMs = 1000) {
    this.#grants = grants;
    this.#now = now;
    this.#refreshMs = refreshMs;
  }

  /** A server's pins, read again when older than `refreshMs`. */
  async current(server: string): Promise<ServerPins> {
    const cached = this.#cache.get(server);
    if (cached && this.#now() - cached.readAt < this.#refreshMs) return cached.pins;
    return (await this.#read(server)).pins;
  }

  /** Every server's pins the store holds. */
  async all(): Promise<Record<string, ServerPins>> {
    const servers = await this.#servers();
    const entries = await Promise.all(servers.map(async (server) => [server, (await this.#read(server)).pins] as const));
    return Object.fromEntries(entries);
  }

  /**
   * What a list showed of `server`'s tools: a tool never seen before a complete list is pinned
   * as it is (first sight); one whose definition differs from its pin, or that appears after,
   * is recorded as pending (once per definition). Resolves with the changes recorded now.
   */
  async observe(server: string, listed: ReadonlyMap<string, PinnedDefinition>, complete: boolean): Promise<ToolChange[]> {
    // What this process read within `refreshMs` already holds every definition listed: nothing to write, no store round trip.
    if (!changes(await this.current(server), listed, complete)) return [];
    return this.#update(server, (pins) => {
      const changes: ToolChange[] = [];
      const at = this.#now();
      for (const [tool, seen] of listed) {
        const accepted = pins.accepted.get(tool);
        if (accepted?.hash === seen.hash) continue;
        if (!accepted && !pins.sealed) {
          pins.accepted.set(tool, { hash: seen.hash, definition: seen.definition, at, by: 'first-sight' });
          continue;
        }
        if (pins.pending.get(tool)?.hash === seen.hash) continue;
        const change = accepted ? 'changed' : 'added';
        const fields = accepted ? changedFields(accepted.definition as JsonObject | null, seen.definition) : [];
        pins.pending.set(tool, { hash: seen.hash, definition: seen.definition, at, change, fields });
        changes.push({ server, tool, change, fields, definitionHash: seen.hash, previousDefinitionHash: accepted?.hash ?? null });
      }
      if (complete) pins.sealed = true;
      return changes;
    });
  }

  /**
   * An operator accepts the pending definition they were shown (`hash`): it becomes the pin.
   * `stale` when the server changed it again since (they must look at the new one).
   */
  async accept(server: string, tool: string, hash: string): Promise<Acceptance> {
    return this.#update(server, (pins): Acceptance => {
      const pending = pins.pending.get(tool);
      if (!pending) return 'unknown';
      if (pending.hash !== hash) return 'stale';
      pins.accepted.set(tool, { hash: pending.hash, definition: pending.definition, at: this.#now(), by: 'operator' });
      pins.pending.delete(tool);
      return 'accepted';
    });
  }

  /**
   * A server's accepted definitions replaced by a reviewed set (a lock file): the server is
   * sealed, and a pending change the set accepts is settled.
   */
  async replace(server: string, tools: ReadonlyMap<string, PinnedDefinition>): Promise<void> {
    await this.#update(server, (pins) => {
      const at = this.#now();
      pins.accepted = new Map();
      for (const [tool, pinned] of tools) {
        pins.accepted.set(tool, { hash: pinned.hash, definition: pinned.definition, at, by: 'import' });
        if (pins.pending.get(tool)?.hash === pinned.hash) pins.pending.delete(tool);
      }
      pins.sealed = true;
    });
  }

  /** Reads, changes and writes a server's record as one compare-and-set, again when another writer came first. */
  async #update<T>(server: string, change: (pins: ServerPins) => T): Promise<T> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const { pins, raw } = await this.#read(server);
      const next = structuredClone(pins);
      const result = change(next);
      const text = stored(next);
      if (text === stored(pins)) return result;
      if (text.length > MAX_RECORD_BYTES)
        throw new Error(
          `sessiongate: the pins of server "${server}" would pass ${MAX_RECORD_BYTES} bytes: not recorded (its strict tools are withheld)`,
        );
      const now = this.#now();
      const written =
        raw === undefined
          ? await this.#grants.add(keyOf(server), text, now + KEPT_MS, now)
          : await this.#grants.swap(keyOf(server), raw, text, now + KEPT_MS, now);
      if (written) {
        this.#cache.set(server, { pins: next, readAt: now });
        if (raw === undefined) await this.#index(server);
        return result;
      }
    }
    throw new Error(`sessiongate: the pins of server "${server}" changed under every one of ${ATTEMPTS} writes`);
  }

  async #read(server: string): Promise<{ pins: ServerPins; raw: string | undefined }> {
    const raw = await this.#grants.get(keyOf(server), this.#now());
    const pins = raw === undefined ? emptyPins() : parsed(raw);
    this.#cache.set(server, { pins, readAt: this.#now() });
    return { pins, raw };
  }

  async #servers(): Promise<string[]> {
    const raw = await this.#grants.get(INDEX_KEY, this.#now());
    const names = raw === undefined ? undefined : z.array(z.string()).safeParse(JSON.parse(raw));
    return names?.success ? names.data : [];
  }

  /** Names the server in the index `all` reads (once, when its record is first written). */
  async #index(server: string): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const now = this.#now();
      const raw = await this.#grants.get(INDEX_KEY, now);
      const names = raw === undefined ? [] : (JSON.parse(raw) as string[]);
      if (names.includes(server)) return;
      const text = JSON.stringify([...names, server].sort());
      const written =
        raw === undefined
          ? await this.#grants.add(INDEX_KEY, text, now + KEPT_MS, now)
          : await this.#grants.swap(INDEX_KEY, raw, text, now + KEPT_MS, now);
      if (written) return;
    }
  }
}

/** Whether `listed` changes anything in `pins` (a first sight, a new change, the list now complete). */
function changes(pins: ServerPins, listed: ReadonlyMap<string, PinnedDefinition>, complete: boolean): boolean {
  if (complete && !pins.sealed) return true;
  for (const [tool, seen] of listed) {
    const accepted = pins.accepted.get(tool);
    if (accepted?.hash === seen.hash) continue;
    if (!accepted && !pins.sealed) return true;
    if (pins.pending.get(tool)?.hash !== seen.hash) return true;
  }
  return false;
}

/**
 * A stored record; one that does not read as pins (an older shape, a hand-edited store) is
 * treated as sealed with nothing accepted, so every tool of the server waits for an operator:
 * fail closed, never open.
 */
function parsed(raw: string): ServerPins {
  try {
    const result = storedPins.safeParse(JSON.parse(raw));
    if (result.success)
      return { sealed: result.data.sealed, accepted: new Map(result.data.accepted), pending: new Map(result.data.pending) };
  } catch {
    // not JSON: as below
  }
  return { sealed: true, accepted: new Map(), pending: new Map() };
}

/** The record's stored text: the same pins always the same text (tools sorted by name). */
function stored(pins: ServerPins): string {
  const sorted = <T>(map: Map<string, T>): [string, T][] => [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({ sealed: pins.sealed, accepted: sorted(pins.accepted), pending: sorted(pins.pending) });
}
