/**
 * THE store contract: one suite per backend (memory, SQLite, real Redis), one group of promises
 * per capability: the session table, secrets, rate-limit buckets, approvals, grants, the stream log.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintSessionId } from '../../src/session/id.js';
import type { ApprovalRecord } from '../../src/store/approval-record.js';
import type { SessionRecord } from '../../src/store/record.js';
import type { CreateLimits } from '../../src/store/session-table.js';
import type { SessionStore } from '../../src/store/store.js';
import type { LoggedEvent, StreamHead } from '../../src/store/stream-log.js';

const NO_CAPS: CreateLimits = { maxSessions: Infinity, maxSessionsPerPrincipal: Infinity, maxAnonymousSessions: Infinity };

function approval(now: number, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    id: mintSessionId(),
    status: 'pending',
    createdAt: now,
    expiresAt: now + MINUTE,
    call: { tool: 'slow', arguments: { ms: 1 } },
    ...overrides,
  };
}

function caps(limits: Partial<CreateLimits>): CreateLimits {
  return { ...NO_CAPS, ...limits };
}
const MINUTE = 60_000;

export function record(now: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: mintSessionId(),
    principal: null,
    protocolVersion: '2025-11-25',
    initialize: { protocolVersion: '2025-11-25', capabilities: { roots: {} }, clientInfo: { name: 'c', version: '1' } },
    clientSessionId: null,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 30 * MINUTE,
    absoluteExpiresAt: now + 24 * 60 * MINUTE,
    state: {},
    ...overrides,
  };
}

export function storeContract(name: string, open: () => Promise<SessionStore>): void {
  describe(`SessionStore contract: ${name} (sessions, secrets, buckets, approvals, stream log)`, () => {
    let store: SessionStore;
    // Real time as the base: Redis's native TTLs run on the server's clock.
    let now: number;
    beforeEach(async () => {
      store = await open();
      now = Date.now();
    });
    afterEach(async () => {
      await store.close();
    });

    it('returns a created record as it was stored', async () => {
      const r = record(now, { principal: 'p1', clientSessionId: '0b6f3c9e-6a4f-4c1e-9d1f-2f7a1c0e5b11' });
      expect(await store.sessions.create(r, NO_CAPS, now)).toBe('created');
      expect(await store.sessions.get(r.id, now)).toEqual(r);
    });

    it('refuses a duplicate id and keeps the original', async () => {
      const r = record(now);
      await store.sessions.create(r, NO_CAPS, now);
      expect(await store.sessions.create({ ...r, protocolVersion: '2025-03-26' }, NO_CAPS, now)).toBe('duplicate');
      expect((await store.sessions.get(r.id, now))?.protocolVersion).toBe('2025-11-25');
    });

    it('returns nothing for an unknown id', async () => {
      expect(await store.sessions.get(mintSessionId(), now)).toBeUndefined();
    });

    it('returns nothing once the idle deadline has passed', async () => {
      const r = record(now, { idleExpiresAt: now + MINUTE });
      await store.sessions.create(r, NO_CAPS, now);
      expect(await store.sessions.get(r.id, now + MINUTE - 1)).toBeDefined();
      expect(await store.sessions.get(r.id, now + MINUTE)).toBeUndefined();
    });

    it('touch slides the idle deadline but never past the absolute one', async () => {
      const r = record(now, { idleExpiresAt: now + MINUTE, absoluteExpiresAt: now + 3 * MINUTE });
      await store.sessions.create(r, NO_CAPS, now);
      expect(await store.sessions.touch(r.id, now + 50_000, now + 50_000 + MINUTE)).toBe(true);
      expect(await store.sessions.get(r.id, now + 100_000)).toMatchObject({ lastSeenAt: now + 50_000, idleExpiresAt: now + 110_000 });
      expect(await store.sessions.touch(r.id, now + 150_000, now + 150_000 + MINUTE)).toBe(true);
      expect(await store.sessions.get(r.id, now + 3 * MINUTE - 1)).toBeDefined();
      expect(await store.sessions.get(r.id, now + 3 * MINUTE)).toBeUndefined();
    });

    it('touch of an unknown session reports false', async () => {
      expect(await store.sessions.touch(mintSessionId(), now, now + MINUTE)).toBe(false);
    });

    it('writes one state key at a time: concurrent writers of different keys all land, undefined removes one', async () => {
      const r = record(now);
      await store.sessions.create(r, NO_CAPS, now);
      // Keys a JSON path or a hash field could trip on, written at once (before: each write
      // replaced the whole state object, so all but the last writer's key were lost).
      const keys = ['plain', 'with.dot', 'quote"d', 'back\\slash', '$[0]', 'state', 'ü'];
      const written = await Promise.all(keys.map((key, n) => store.sessions.writeState(r.id, key, { n, nested: [key] })));
      expect(written).toEqual(keys.map(() => true));
      expect((await store.sessions.get(r.id, now))!.state).toEqual(Object.fromEntries(keys.map((key, n) => [key, { n, nested: [key] }])));
      expect(await store.sessions.writeState(r.id, 'with.dot', undefined)).toBe(true);
      expect(await store.sessions.writeState(r.id, 'plain', 'replaced')).toBe(true);
      const state = (await store.sessions.get(r.id, now))!.state;
      expect(state).not.toHaveProperty(['with.dot']);
      expect(state['plain']).toBe('replaced');
      expect(Object.keys(state)).toHaveLength(keys.length - 1);
    });

    it('persists state and the negotiated version', async () => {
      const r = record(now);
      await store.sessions.create(r, NO_CAPS, now);
      expect(await store.sessions.writeState(r.id, 'cart', ['a', 'b'])).toBe(true);
      expect(await store.sessions.writeState(r.id, 'n', 2)).toBe(true);
      expect(await store.sessions.setProtocolVersion(r.id, '2025-06-18')).toBe(true);
      expect(await store.sessions.get(r.id, now)).toMatchObject({ state: { cart: ['a', 'b'], n: 2 }, protocolVersion: '2025-06-18' });
      expect(await store.sessions.writeState(mintSessionId(), 'n', 1)).toBe(false);
      expect(await store.sessions.setProtocolVersion(mintSessionId(), '2025-06-18')).toBe(false);
    });

    it('delete is idempotent and reports the live record exactly once', async () => {
      const r = record(now, { principal: 'p' });
      await store.sessions.create(r, NO_CAPS, now);
      expect(await store.sessions.delete(r.id)).toEqual(r);
      expect(await store.sessions.delete(r.id)).toBeUndefined();
      expect(await store.sessions.get(r.id, now)).toBeUndefined();
    });

    it('refuses past the global cap, and expired sessions do not count', async () => {
      const limits = caps({ maxSessions: 2 });
      await store.sessions.create(record(now, { idleExpiresAt: now + MINUTE }), limits, now);
      await store.sessions.create(record(now), limits, now);
      expect(await store.sessions.create(record(now), limits, now)).toBe('cap-global');
      expect(await store.sessions.create(record(now), limits, now + MINUTE)).toBe('created');
    });

    it('refuses past the per-principal cap without touching other principals or anonymous sessions', async () => {
      const limits = caps({ maxSessionsPerPrincipal: 2 });
      await store.sessions.create(record(now, { principal: 'alice' }), limits, now);
      const gone = record(now, { principal: 'alice' });
      await store.sessions.create(gone, limits, now);
      expect(await store.sessions.create(record(now, { principal: 'alice' }), limits, now)).toBe('cap-principal');
      expect(await store.sessions.create(record(now, { principal: 'bob' }), limits, now)).toBe('created');
      expect(await store.sessions.create(record(now), limits, now)).toBe('created');
      expect(await store.sessions.create(record(now), limits, now)).toBe('created');
      expect(await store.sessions.create(record(now), limits, now)).toBe('created');
      await store.sessions.delete(gone.id);
      expect(await store.sessions.create(record(now, { principal: 'alice' }), limits, now)).toBe('created');
    });

    it('holds anonymous sessions to a cap of their own, as one bucket, expired ones not counted', async () => {
      const limits = caps({ maxSessionsPerPrincipal: 1, maxAnonymousSessions: 2 });
      const first = record(now, { idleExpiresAt: now + MINUTE });
      await store.sessions.create(first, limits, now);
      await store.sessions.create(record(now), limits, now);
      expect(await store.sessions.create(record(now), limits, now)).toBe('cap-principal');
      // Principals are not held back by the anonymous bucket, nor it by them.
      expect(await store.sessions.create(record(now, { principal: 'alice' }), limits, now)).toBe('created');
      expect(await store.sessions.create(record(now), limits, now + 2 * MINUTE)).toBe('created');
      await store.sessions.delete((await store.sessions.soonestToExpire({ principal: null }, now + 2 * MINUTE))!);
      expect(await store.sessions.create(record(now), limits, now + 2 * MINUTE)).toBe('created');
    });

    it('names the anonymous session whose deadline comes first, never a principal’s', async () => {
      const named = record(now, { idleExpiresAt: now + MINUTE, principal: 'alice' });
      const older = record(now, { idleExpiresAt: now + 5 * MINUTE });
      const newer = record(now, { idleExpiresAt: now + 10 * MINUTE });
      for (const r of [newer, named, older]) await store.sessions.create(r, NO_CAPS, now);
      expect(await store.sessions.soonestToExpire({ principal: null }, now)).toBe(older.id);
      expect(await store.sessions.soonestToExpire('anyone', now)).toBe(named.id);
      await store.sessions.touch(older.id, now + MINUTE, now + 20 * MINUTE);
      expect(await store.sessions.soonestToExpire({ principal: null }, now + MINUTE)).toBe(newer.id);
      await store.sessions.delete(newer.id);
      await store.sessions.delete(older.id);
      expect(await store.sessions.soonestToExpire({ principal: null }, now + MINUTE)).toBeUndefined();
    });

    it('enforces a cap atomically under concurrent creates', async () => {
      const limits = caps({ maxSessions: 5, maxSessionsPerPrincipal: 3 });
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.sessions.create(record(now, { principal: i % 2 ? 'x' : 'y' }), limits, now)),
      );
      expect(outcomes.filter((o) => o === 'created')).toHaveLength(5);
      expect(await store.sessions.count()).toBe(5);
    });

    it('sweeps exactly the expired sessions, oldest first, up to the limit', async () => {
      const early = record(now, { idleExpiresAt: now + MINUTE });
      const later = record(now, { idleExpiresAt: now + 2 * MINUTE, principal: 'p' });
      const live = record(now);
      for (const r of [live, later, early]) await store.sessions.create(r, NO_CAPS, now);
      expect(await store.sessions.sweepExpired(now, 10)).toEqual([]);
      const first = await store.sessions.sweepExpired(now + 5 * MINUTE, 1);
      expect(first.map((r) => r.id)).toEqual([early.id]);
      const rest = await store.sessions.sweepExpired(now + 5 * MINUTE, 10);
      expect(rest).toEqual([later]);
      expect(await store.sessions.get(live.id, now + 5 * MINUTE)).toBeDefined();
      expect(await store.sessions.count()).toBe(1);
      // A swept principal's session no longer counts toward its cap.
      expect(await store.sessions.create(record(now, { principal: 'p' }), caps({ maxSessionsPerPrincipal: 1 }), now + 5 * MINUTE)).toBe(
        'created',
      );
    });

    it('does not sweep a session whose idle deadline was slid past now', async () => {
      const r = record(now, { idleExpiresAt: now + MINUTE });
      await store.sessions.create(r, NO_CAPS, now);
      await store.sessions.touch(r.id, now + 50_000, now + 50_000 + MINUTE);
      expect(await store.sessions.sweepExpired(now + 90_000, 10)).toEqual([]);
      expect((await store.sessions.sweepExpired(now + 110_000, 10)).map((x) => x.id)).toEqual([r.id]);
    });

    it('still reports an expired session to the sweep after a cap check passed it over', async () => {
      const limits = caps({ maxSessions: 1 });
      const old = record(now, { idleExpiresAt: now + MINUTE });
      await store.sessions.create(old, limits, now);
      expect(await store.sessions.create(record(now), limits, now + 2 * MINUTE)).toBe('created');
      expect((await store.sessions.sweepExpired(now + 2 * MINUTE, 10)).map((r) => r.id)).toEqual([old.id]);
    });

    it('names the live session whose deadline comes first, overall or of one principal', async () => {
      expect(await store.sessions.soonestToExpire('anyone', now)).toBeUndefined();
      const expired = record(now, { idleExpiresAt: now + MINUTE });
      const lru = record(now, { idleExpiresAt: now + 10 * MINUTE, principal: 'alice' });
      const recent = record(now, { idleExpiresAt: now + 20 * MINUTE, principal: 'alice' });
      const ending = record(now, { absoluteExpiresAt: now + 15 * MINUTE, principal: 'bob' });
      for (const r of [recent, expired, ending, lru]) await store.sessions.create(r, NO_CAPS, now);
      const later = now + 2 * MINUTE;
      expect(await store.sessions.soonestToExpire('anyone', later)).toBe(lru.id);
      expect(await store.sessions.soonestToExpire({ principal: 'alice' }, later)).toBe(lru.id);
      expect(await store.sessions.soonestToExpire({ principal: 'bob' }, later)).toBe(ending.id);
      expect(await store.sessions.soonestToExpire({ principal: 'carol' }, later)).toBeUndefined();
      // Used again: no longer the least recently used.
      await store.sessions.touch(lru.id, later, later + 30 * MINUTE);
      expect(await store.sessions.soonestToExpire('anyone', later)).toBe(ending.id);
      expect(await store.sessions.soonestToExpire({ principal: 'alice' }, later)).toBe(recent.id);
      await store.sessions.delete(ending.id);
      expect(await store.sessions.soonestToExpire('anyone', later)).toBe(recent.id);
      // The expired session was never a candidate, and the sweep still reports it.
      expect((await store.sessions.sweepExpired(later, 10)).map((r) => r.id)).toEqual([expired.id]);
    });

    it('lists live sessions page by page, each once, without expired ones', async () => {
      const made: string[] = [];
      for (let i = 0; i < 7; i++) {
        const r = record(now);
        made.push(r.id);
        await store.sessions.create(r, NO_CAPS, now);
      }
      const gone = record(now, { idleExpiresAt: now + 10 });
      await store.sessions.create(gone, NO_CAPS, now);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.sessions.list(cursor, 3, now + 20);
        seen.push(...page.records.map((r) => r.id));
        cursor = page.next;
        pages++;
      } while (cursor !== undefined && pages < 20);
      expect(seen.sort()).toEqual(made.sort());
      expect(pages).toBeGreaterThan(1);
    });

    // Each capability of the backend keeps its own promises (src/store/store.ts).
    it('secrets: keeps the first shared secret for everybody', async () => {
      const first = await store.secrets.shared('k', () => 'one');
      const second = await store.secrets.shared('k', () => 'two');
      expect([first, second]).toEqual(['one', 'one']);
    });

    it('rate-limit buckets: `capacity` takes at once, then the wait until the next token, refilled evenly; one per key', async () => {
      const now = 1_000_000;
      const perMs = 3 / 60_000; // 3 a minute
      const taken = await Promise.all([0, 1, 2].map(() => store.buckets.take('p:alice', 3, perMs, now)));
      expect(taken).toEqual([0, 0, 0]);
      expect(await store.buckets.take('p:alice', 3, perMs, now)).toBe(20_000);
      expect(await store.buckets.take('p:bob', 3, perMs, now)).toBe(0);
      expect(await store.buckets.take('p:alice', 3, perMs, now + 20_000)).toBe(0);
      expect(await store.buckets.take('p:alice', 3, perMs, now + 20_000)).toBeGreaterThan(0);
      // A long pause refills to the capacity, never past it.
      const later = now + 3_600_000;
      expect(await Promise.all([0, 1, 2, 3].map(() => store.buckets.take('p:alice', 3, perMs, later)))).toEqual([
        0,
        0,
        0,
        expect.any(Number) as number,
      ]);
    });

    it('approvals: one per id, for everybody; listed oldest first while pending', async () => {
      const first = approval(now);
      expect(await store.approvals.open(first, now)).toEqual(first);
      // Opened again (another replica, a retry): the one kept is returned, untouched.
      expect(await store.approvals.open({ ...first, createdAt: now + 1, call: {} }, now + 1)).toEqual(first);
      const second = approval(now + 5);
      await store.approvals.open(second, now + 5);
      expect((await store.approvals.list(now + 10, 10)).map((a) => a.id)).toEqual([first.id, second.id]);
      expect((await store.approvals.list(now + 10, 1)).map((a) => a.id)).toEqual([first.id]);
      expect(await store.approvals.get(first.id, now + 10)).toEqual(first);
      expect(await store.approvals.get(mintSessionId(), now)).toBeUndefined();
    });

    it('approvals: a move happens once, only from the status it expects; a decided one is no longer listed', async () => {
      const pending = approval(now);
      await store.approvals.open(pending, now);
      const approved: ApprovalRecord = {
        ...pending,
        status: 'approved',
        decidedBy: 'admin',
        decidedAt: now + 1,
        expiresAt: now + 2 * MINUTE,
      };
      const denied: ApprovalRecord = { ...approved, status: 'denied' };
      // Two operators at once on two replicas: exactly one decides.
      const moves = await Promise.all([
        store.approvals.move(pending.id, 'pending', approved, now + 1),
        store.approvals.move(pending.id, 'pending', denied, now + 1),
      ]);
      expect(moves.filter(Boolean)).toHaveLength(1);
      const decided = (await store.approvals.get(pending.id, now + 1))!;
      expect(decided.status).toBe(moves[0] ? 'approved' : 'denied');
      expect(await store.approvals.list(now + 1, 10)).toEqual([]);
      // Kept until its new expiry, then collected exactly once.
      expect(await store.approvals.get(pending.id, now + MINUTE + 1)).toEqual(decided);
      const collected = await Promise.all([0, 1].map(() => store.approvals.move(pending.id, decided.status, undefined, now + 2)));
      expect(collected.filter(Boolean)).toHaveLength(1);
      expect(await store.approvals.get(pending.id, now + 2)).toBeUndefined();
      expect(await store.approvals.move(pending.id, 'pending', undefined, now + 2)).toBe(false);
    });

    it('approvals: past its expiry one is gone (not listed, not moved) and its id may be opened anew', async () => {
      const old = approval(now, { expiresAt: now + 1000 });
      await store.approvals.open(old, now);
      const later = now + 1000;
      expect(await store.approvals.get(old.id, later)).toBeUndefined();
      expect(await store.approvals.list(later, 10)).toEqual([]);
      expect(await store.approvals.move(old.id, 'pending', { ...old, status: 'approved' }, later)).toBe(false);
      const fresh = { ...old, createdAt: later, expiresAt: later + MINUTE };
      expect(await store.approvals.open(fresh, later)).toEqual(fresh);
    });

    it('grants: added once while live, read until their time, then gone and addable anew', async () => {
      const store_ = store.grants!;
      expect(await store_.add('code:a', 'one', now + 1000, now)).toBe(true);
      expect(await store_.add('code:a', 'two', now + 1000, now)).toBe(false);
      expect(await store_.get('code:a', now + 999)).toBe('one');
      expect(await store_.get('code:b', now)).toBeUndefined();
      expect(await store_.get('code:a', now + 1000)).toBeUndefined();
      expect(await store_.add('code:a', 'three', now + 3000, now + 1000)).toBe(true);
      expect(await store_.get('code:a', now + 1001)).toBe('three');
    });

    it('grants: a swap happens once, only from the value it expects and only while live', async () => {
      const grants = store.grants!;
      await grants.add('refresh:x', 'fresh', now + MINUTE, now);
      // One refresh token presented twice at once, on two replicas: exactly one rotates it.
      const swaps = await Promise.all([
        grants.swap('refresh:x', 'fresh', 'used-by-1', now + MINUTE, now + 1),
        grants.swap('refresh:x', 'fresh', 'used-by-2', now + MINUTE, now + 1),
      ]);
      expect(swaps.filter(Boolean)).toHaveLength(1);
      expect(await grants.get('refresh:x', now + 2)).toBe(swaps[0] ? 'used-by-1' : 'used-by-2');
      expect(await grants.swap('refresh:x', 'fresh', undefined, now, now + 2)).toBe(false);
      const current = (await grants.get('refresh:x', now + 2))!;
      expect(await grants.swap('refresh:x', current, undefined, now, now + 2)).toBe(true);
      expect(await grants.get('refresh:x', now + 2)).toBeUndefined();
      await grants.add('code:y', 'live', now + 10, now);
      expect(await grants.swap('code:y', 'live', 'used', now + MINUTE, now + 10)).toBe(false);
    });

    describe('stream log', () => {
      const head = { requestId: 7, owner: 'run-a', done: false, lastSeq: 0 };
      const batch = (sessionId: string, streamId: string, h: StreamHead, written: LoggedEvent[], keepUntil: number, maxEvents: number) => ({
        sessionId,
        streamId,
        head: { ...h, lastSeq: written.at(-1)?.seq ?? h.lastSeq },
        events: written,
        keepUntil,
        maxEvents,
      });
      const events = (from: number, to: number) =>
        Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, data: JSON.stringify({ n: from + i }) }));

      it("keeps a stream's events in order and reads after a number, in pages", async () => {
        const log = store.streamLog!;
        await log.write(batch('s1', 'c1', head, events(1, 3), now + MINUTE, 100));
        await log.write(batch('s1', 'c1', { ...head, done: true }, events(4, 5), now + MINUTE, 100));
        expect(await log.read('s1', 'c1', 0, 100, now)).toEqual({ head: { ...head, done: true, lastSeq: 5 }, events: events(1, 5) });
        expect((await log.read('s1', 'c1', 2, 2, now))!.events).toEqual(events(3, 4));
        expect((await log.read('s1', 'c1', 5, 100, now))!.events).toEqual([]);
      });

      it('reads only the stream of the session it was written for', async () => {
        const log = store.streamLog!;
        await log.write(batch('s1', 'c1', head, events(1, 2), now + MINUTE, 100));
        expect(await log.read('s2', 'c1', 0, 100, now)).toBeUndefined();
        expect(await log.read('s1', 'c2', 0, 100, now)).toBeUndefined();
      });

      it("drops the oldest past maxEvents, and whole streams past keepUntil or the session's end", async () => {
        const log = store.streamLog!;
        await log.write(batch('s1', 'c1', head, events(1, 10), now + MINUTE, 4));
        expect((await log.read('s1', 'c1', 0, 100, now))!.events).toEqual(events(7, 10));
        await log.write(batch('s1', 'c2', { ...head, requestId: 'x' }, events(1, 1), now + 300, 100));
        await log.write(batch('s2', 'c1', { ...head, requestId: null }, events(1, 1), now + MINUTE, 100));
        await expect.poll(async () => log.read('s1', 'c2', 0, 100, Date.now()), { timeout: 5000 }).toBeUndefined();
        await log.sweep(Date.now());
        expect(await log.read('s1', 'c2', 0, 100, now)).toBeUndefined();
        await log.drop('s1');
        expect(await log.read('s1', 'c1', 0, 100, now)).toBeUndefined();
        expect((await log.read('s2', 'c1', 0, 100, now))!.head.requestId).toBeNull();
      });

      it("keeps the head's cursor, and lets one reader claim a stream from its writer", async () => {
        const log = store.streamLog!;
        await log.write(batch('s1', 'c1', { ...head, cursor: 'up-41' }, events(1, 2), now + MINUTE, 100));
        expect((await log.read('s1', 'c1', 2, 100, now))!.head).toEqual({ ...head, lastSeq: 2, cursor: 'up-41' });
        expect(await log.claim('s1', 'c1', 'run-b', 'run-c')).toBe(false);
        expect(await log.claim('s1', 'c1', 'run-a', 'run-b')).toBe(true);
        expect(await log.claim('s1', 'c1', 'run-a', 'run-c')).toBe(false);
        expect((await log.read('s1', 'c1', 2, 100, now))!.head.owner).toBe('run-b');
        expect(await log.claim('s1', 'c9', 'run-a', 'run-b')).toBe(false);
      });

      it('tells until when a writer said it is alive', async () => {
        const log = store.streamLog!;
        expect(await log.aliveUntil('run-z')).toBe(0);
        await log.heartbeat('run-z', now + MINUTE, now);
        expect(await log.aliveUntil('run-z')).toBe(now + MINUTE);
        await log.heartbeat('run-z', 0, now);
        expect(await log.aliveUntil('run-z')).toBe(0);
      });
    });
  });
}
