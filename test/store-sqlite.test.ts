import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { record, storeContract } from './helpers/store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite', async () => new SqliteStore(join(dir, `contract-${n++}.db`)));

describe('SqliteStore durability', () => {
  it('a second store on the same file sees sessions, state and the shared secret', async () => {
    const path = join(dir, 'reopen.db');
    const now = Date.now();
    const first = new SqliteStore(path);
    const r = record(now, { principal: 'p' });
    await first.sessions.create(r, { maxSessions: Infinity, maxSessionsPerPrincipal: Infinity, maxAnonymousSessions: Infinity }, now);
    await first.sessions.writeState(r.id, 'step', 3);
    const secret = await first.secrets.shared('principal-key', () => 'k1');
    await first.close();
    const second = new SqliteStore(path);
    expect(await second.sessions.get(r.id, now)).toEqual({ ...r, state: { step: 3 } });
    expect(await second.secrets.shared('principal-key', () => 'k2')).toBe(secret);
    await second.close();
  });

  it('a record read again unchanged is not read again, yet a write by another process on the file is seen at once', async () => {
    const path = join(dir, 'two-processes.db');
    const now = Date.now();
    const reader = new SqliteStore(path);
    const writer = new SqliteStore(path);
    const r = record(now, { principal: 'p' });
    await writer.sessions.create(r, { maxSessions: Infinity, maxSessionsPerPrincipal: Infinity, maxAnonymousSessions: Infinity }, now);
    const first = (await reader.sessions.get(r.id, now))!;
    const again = (await reader.sessions.get(r.id, now))!;
    // Unchanged: the same record (read-only, as the memory store's), not read from the file again.
    expect(again).toBe(first);
    // Its own touch slides the record it keeps; another connection's touch is read.
    await reader.sessions.touch(r.id, now + 1, now + 120_000);
    expect(await reader.sessions.get(r.id, now)).toMatchObject({ lastSeenAt: now + 1, idleExpiresAt: now + 120_000 });
    await writer.sessions.touch(r.id, now + 2, now + 180_000);
    expect(await reader.sessions.get(r.id, now)).toMatchObject({ lastSeenAt: now + 2, idleExpiresAt: now + 180_000 });
    await writer.sessions.writeState(r.id, 'step', 7);
    const after = (await reader.sessions.get(r.id, now))!;
    expect(after.state).toEqual({ step: 7 });
    expect(first.state).toEqual({});
    await writer.sessions.delete(r.id);
    expect(await reader.sessions.get(r.id, now)).toBeUndefined();
    await reader.close();
    await writer.close();
  });

  it('opens a file whose stream log predates cursors, adding the columns', async () => {
    const path = join(dir, 'before-cursors.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE stream_heads (session_id TEXT NOT NULL, stream_id TEXT NOT NULL, request_id TEXT NOT NULL,
      owner TEXT NOT NULL, done INTEGER NOT NULL, keep_until INTEGER NOT NULL, PRIMARY KEY (session_id, stream_id)) WITHOUT ROWID`);
    old.prepare('INSERT INTO stream_heads VALUES (?, ?, ?, ?, ?, ?)').run('s1', 'c1', '7', 'run-a', 0, Date.now() + 60_000);
    old.close();
    const store = new SqliteStore(path);
    expect((await store.streamLog.read('s1', 'c1', 0, 10, Date.now()))!.head).toEqual({
      requestId: 7,
      owner: 'run-a',
      done: false,
      lastSeq: 0,
    });
    const head = { requestId: 8, owner: 'run-b', done: false, lastSeq: 1, cursor: 'u1' };
    await store.streamLog.write({
      sessionId: 's1',
      streamId: 'c2',
      head,
      events: [{ seq: 1, data: '{}' }],
      keepUntil: Date.now() + 60_000,
      maxEvents: 10,
    });
    expect((await store.streamLog.read('s1', 'c2', 0, 10, Date.now()))!.head).toEqual(head);
    await store.close();
  });

  it('bounds buckets and approvals on its own: takes forget buckets full again, opens drop approvals past their time', async () => {
    const path = join(dir, 'bounded.db');
    const store = new SqliteStore(path);
    const rows = (table: string): number => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    const t0 = Date.now();
    // Ten buckets of one token refilled in a second: full again (forgettable) a second later.
    for (let i = 0; i < 10; i++) await store.buckets.take(`k${i}`, 1, 1 / 1000, t0);
    expect(rows('buckets')).toBe(10);
    for (let i = 0; i < 5; i++) await store.buckets.take('busy', 1, 1 / 1000, t0 + 10_000 + i);
    expect(rows('buckets')).toBe(1);
    const open = (id: string, at: number) =>
      store.approvals.open({ id, status: 'pending', createdAt: at, expiresAt: at + 1000, call: { tool: 'slow' } }, at);
    for (let i = 0; i < 4; i++) await open(`old${i}`, t0);
    expect(rows('approvals')).toBe(4);
    await open('new0', t0 + 10_000);
    await open('new1', t0 + 10_000);
    expect(rows('approvals')).toBe(2);
    await store.close();
  });

  it('rejects a bad busyTimeoutMs naming the option', () => {
    expect(() => new SqliteStore(':memory:', { busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs/);
  });
});
