import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../src/protocol/jsonrpc.js';
import { DeadlineHeap } from '../src/store/memory/deadline-heap.js';
import { MemoryStore } from '../src/store/memory/index.js';
import { DEFAULT_STREAM_LOG_BYTES, MemoryStreamLog } from '../src/store/memory/memory-stream-log.js';
import type { SessionRecord } from '../src/store/record.js';
import { storeContract } from './helpers/store-contract.js';

storeContract('memory', async () => new MemoryStore());

describe('memory store: what an idle record costs', () => {
  const limits = { maxSessions: 100, maxSessionsPerPrincipal: 100, maxAnonymousSessions: 100 };
  const params = (): JsonObject => ({ protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } });
  const recordOf = (id: string, initialize: JsonObject): SessionRecord => ({
    id,
    principal: null,
    protocolVersion: '2025-11-25',
    initialize,
    clientSessionId: null,
    createdAt: 0,
    lastSeenAt: 0,
    idleExpiresAt: 1_000,
    absoluteExpiresAt: 2_000,
    state: {},
  });

  it('keeps equal initialize params once while a record uses them, and forgets them after', async () => {
    const store = new MemoryStore();
    const first = params();
    await store.sessions.create(recordOf('a', first), limits, 0);
    await store.sessions.create(recordOf('b', params()), limits, 0);
    expect((await store.sessions.get('b', 0))!.initialize).toBe(first);
    await store.sessions.create(recordOf('c', { ...params(), capabilities: { roots: {} } }), limits, 0);
    expect((await store.sessions.get('c', 0))!.initialize).not.toBe(first);
    await store.sessions.delete('a');
    // Still used by b: still the kept one.
    await store.sessions.create(recordOf('d', params()), limits, 0);
    expect((await store.sessions.get('d', 0))!.initialize).toBe(first);
    await store.sessions.delete('b');
    await store.sessions.delete('d');
    const fresh = params();
    await store.sessions.create(recordOf('e', fresh), limits, 0);
    expect((await store.sessions.get('e', 0))!.initialize).toBe(fresh);
  });

  it('a record handed out is a copy: a later touch, or the slot taken again by another session, does not show through', async () => {
    const store = new MemoryStore();
    await store.sessions.create(recordOf('a', params()), limits, 0);
    const before = (await store.sessions.get('a', 0))!;
    await store.sessions.touch('a', 500, 1_500);
    expect(before.lastSeenAt).toBe(0);
    expect((await store.sessions.get('a', 0))!.idleExpiresAt).toBe(1_500);
    await store.sessions.delete('a');
    await store.sessions.create({ ...recordOf('b', params()), principal: 'p', createdAt: 7 }, limits, 0);
    expect(before.id).toBe('a');
    expect(before.principal).toBeNull();
    expect(before.createdAt).toBe(0);
    expect(await store.sessions.get('a', 0)).toBeUndefined();
    expect((await store.sessions.get('b', 0))!).toMatchObject({ id: 'b', principal: 'p', createdAt: 7 });
  });

  it("a principal's sessions are kept under one entry and found for its cap", async () => {
    const store = new MemoryStore();
    const principal = (suffix: string): string => `principal-${suffix}`.slice(0, -1) + suffix;
    await store.sessions.create({ ...recordOf('a', params()), principal: principal('x') }, limits, 0);
    await store.sessions.create({ ...recordOf('b', params()), principal: principal('x') }, limits, 0);
    expect((await store.sessions.get('b', 0))!.principal).toBe('principal-x');
    expect(await store.sessions.soonestToExpire({ principal: 'principal-x' }, 0)).toBe('a');
  });

  it('an empty state is shared and frozen; a set state is kept as given', async () => {
    const store = new MemoryStore();
    await store.sessions.create(recordOf('a', params()), limits, 0);
    await store.sessions.create(recordOf('b', params()), limits, 0);
    const empty = (await store.sessions.get('a', 0))!.state;
    expect((await store.sessions.get('b', 0))!.state).toBe(empty);
    expect(Object.isFrozen(empty)).toBe(true);
    await store.sessions.writeState('a', 'n', 1);
    expect((await store.sessions.get('a', 0))!.state).toEqual({ n: 1 });
    expect((await store.sessions.get('b', 0))!.state).toEqual({});
  });
});

describe('deadline heap', () => {
  it('pops deadlines in order, only those due (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.string())), fc.integer({ min: 0, max: 1000 }), (entries, now) => {
        const heap = new DeadlineHeap();
        for (const [at, id] of entries) heap.push(at, id);
        const popped: number[] = [];
        for (let due = heap.popDue(now); due !== undefined; due = heap.popDue(now)) popped.push(due.at);
        const expected = entries
          .map(([at]) => at)
          .filter((at) => at <= now)
          .sort((x, y) => x - y);
        expect(popped).toEqual(expected);
        expect(heap.size).toBe(entries.length - expected.length);
        expect(heap.peek()?.at).toBe(
          entries
            .map(([at]) => at)
            .filter((at) => at > now)
            .sort((x, y) => x - y)[0],
        );
      }),
    );
  });
});

describe('memory stream log: a byte bound for the whole process (issue 34)', () => {
  const head = { requestId: 1, owner: 'run', done: false, lastSeq: 1 };
  const event = (seq: number, bytes: number) => ({ seq, data: 'x'.repeat(bytes) });
  const write = (log: MemoryStreamLog, session: string, stream: string, events: { seq: number; data: string }[]) =>
    log.write({
      sessionId: session,
      streamId: stream,
      head: { ...head, lastSeq: events.at(-1)!.seq },
      events,
      keepUntil: Date.now() + 60_000,
      maxEvents: 1000,
    });

  it('past maxBytes the oldest events written go first, whichever streams hold them; ends and sweeps count out', async () => {
    const log = new MemoryStreamLog(2500);
    await write(log, 's1', 'a', [event(1, 1000)]);
    await write(log, 's2', 'b', [event(1, 1000)]);
    expect(log.bytes).toBe(2000);
    await write(log, 's3', 'c', [event(1, 1000)]);
    expect(log.bytes).toBe(2000);
    // a's event went (its head stays: a reader resuming from before it is told of the gap).
    expect(await log.read('s1', 'a', 0, 10, Date.now())).toMatchObject({ head: { lastSeq: 1 }, events: [] });
    expect((await log.read('s2', 'b', 0, 10, Date.now()))?.events).toHaveLength(1);
    await log.drop('s2');
    expect(log.bytes).toBe(1000);
    await log.sweep(Date.now() + 120_000);
    expect(log.bytes).toBe(0);
  });

  it('sixty abandoned 2 MB answers keep at most the bound, and what is kept is the newest', async () => {
    const log = new MemoryStreamLog(DEFAULT_STREAM_LOG_BYTES);
    for (let i = 0; i < 60; i++) await write(log, `s${i}`, 'post', [event(1, 2 * 1024 * 1024)]);
    expect(log.bytes).toBeLessThanOrEqual(DEFAULT_STREAM_LOG_BYTES);
    expect((await log.read('s59', 'post', 0, 10, Date.now()))?.events).toHaveLength(1);
    expect((await log.read('s0', 'post', 0, 10, Date.now()))?.events).toHaveLength(0);
  });

  it('the count bound per stream counts its bytes out too', async () => {
    const log = new MemoryStreamLog(1_000_000);
    for (let seq = 1; seq <= 200; seq++)
      await log.write({
        sessionId: 's',
        streamId: 'x',
        head: { ...head, lastSeq: seq },
        events: [event(seq, 10)],
        keepUntil: Date.now() + 60_000,
        maxEvents: 50,
      });
    expect(log.bytes).toBe(500);
    const page = await log.read('s', 'x', 0, 100, Date.now());
    expect(page?.events.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 151 + i));
  });
});
