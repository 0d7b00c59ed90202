/**
 * The session gate with a controllable clock: coarse touches, sweeps, disposers, caps.
 */
import { describe, expect, it } from 'vitest';
import { SessionManager } from '../src/session/session-manager.js';
import type { SessionOptions } from '../src/session/options.js';
import { LiveRegistry } from '../src/session/live-registry.js';
import { MemoryStore } from '../src/store/memory/index.js';
import { MemorySessions } from '../src/store/memory/memory-sessions.js';
import type { DisposeReason as EndReason } from '../src/session/live-registry.js';
import { ManualClock } from './helpers/clock.js';

const INIT = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } };

/** A real memory session table that counts its touch writes. */
class CountingSessions extends MemorySessions {
  touches = 0;
  override touch(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<boolean> {
    this.touches++;
    return super.touch(id, lastSeenAt, idleExpiresAt);
  }
}

/** A real MemoryStore whose session table counts its touch writes. */
class CountingStore extends MemoryStore {
  override readonly sessions = new CountingSessions();
  get touches(): number {
    return this.sessions.touches;
  }
}

function manager(clock: ManualClock, store = new MemoryStore(), extra = {}): SessionManager {
  return new SessionManager({ store, clock, idleTimeoutMs: 60_000, sweepIntervalMs: 0, ...extra });
}

describe('SessionManager', () => {
  it('writes the idle deadline at most once per tenth of the idle window, not per request', async () => {
    const clock = new ManualClock();
    const store = new CountingStore();
    const sessions = manager(clock, store);
    const { id } = await sessions.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null });
    for (let i = 0; i < 600; i++) {
      clock.advance(100); // 600 requests over 60 s
      await sessions.resolve(id, undefined);
    }
    expect(store.touches).toBe(10);
    // The session is still alive well past the original idle deadline.
    expect((await sessions.resolve(id, undefined)).id).toBe(id);
  });

  it('expires an idle session no earlier than 0.9x the idle timeout after its last request', async () => {
    const clock = new ManualClock();
    const sessions = manager(clock);
    const { id } = await sessions.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null });
    clock.advance(5_999);
    await sessions.resolve(id, undefined); // below the touch threshold: no write
    // Look without resolving (a resolve is itself a request that slides the deadline).
    clock.advance(54_000); // 0.9 x 60 s after the last request
    expect(await sessions.peek(id)).toBeDefined();
    clock.advance(2); // 60 s after the last recorded touch
    expect(await sessions.peek(id)).toBeUndefined();
    await expect(sessions.resolve(id, undefined)).rejects.toMatchObject({ code: 'SG_SESSION_NOT_FOUND' });
  });

  it('a sweep ends expired sessions: their resources are disposed with the reason, listeners told', async () => {
    const clock = new ManualClock();
    const sessions = manager(clock, new MemoryStore(), { maxLifetimeMs: 90_000 });
    const idle = await sessions.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null });
    const reasons: [string, EndReason][] = [];
    sessions.attach(idle.id, (reason) => void reasons.push(['disposed', reason]));
    sessions.onEnd((record, reason) => reasons.push([record.id === idle.id ? 'idle-session' : 'other', reason]));
    clock.advance(30_000);
    const busy = await sessions.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null });
    clock.advance(31_000);
    expect(await sessions.sweep()).toBe(1);
    expect(reasons).toEqual([
      ['disposed', 'idle'],
      ['idle-session', 'idle'],
    ]);
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      await sessions.resolve(busy.id, undefined);
    }
    clock.advance(10_000); // 90 s after it was created, 10 s after its last request
    expect(await sessions.sweep()).toBe(1);
    expect(reasons.at(-1)).toEqual(['other', 'lifetime']);
    await sessions.close();
  });

  it('refuses past the cap with SG_SESSION_LIMIT and a Retry-After header', async () => {
    const sessions = manager(new ManualClock(), new MemoryStore(), { maxSessions: 1 });
    await sessions.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null });
    await expect(
      sessions.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null }),
    ).rejects.toMatchObject({
      code: 'SG_SESSION_LIMIT',
      headers: { 'retry-after': '30' },
    });
  });

  /** A manager whose sessions record their ends (reason) and resource disposals in `ended`. */
  function evicting(clock: ManualClock, options: SessionOptions) {
    const sessions = manager(clock, new MemoryStore(), options);
    const ended: [string, EndReason][] = [];
    sessions.onEnd((record, reason) => void ended.push([record.id, reason]));
    const open = (identity?: string) =>
      sessions.create({ identity, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null }).then((record) => {
        sessions.attach(record.id, (reason) => void ended.push([`disposed ${record.id}`, reason]));
        return record;
      });
    return { sessions, ended, open };
  }

  it("with onCap 'evict', past a cap the caller's own least recently used session ends (reason cap), never another's", async () => {
    const clock = new ManualClock();
    const { sessions, ended, open } = evicting(clock, { maxSessions: 3, maxSessionsPerPrincipal: 2, onCap: 'evict' });
    const a1 = await open('alice');
    clock.advance(10_000);
    const a2 = await open('alice');
    clock.advance(10_000);
    const anon = await open();
    clock.advance(10_000);
    await sessions.resolve(a1.id, 'alice'); // a1 is now more recent than a2 and anon
    // Alice's own cap: her least recently used session goes, nobody else's.
    const a3 = await open('alice');
    // The slot is taken at once; the victim's resources are freed meanwhile.
    await expect
      .poll(() => ended)
      .toEqual([
        [`disposed ${a2.id}`, 'cap'],
        [a2.id, 'cap'],
      ]);
    await expect(sessions.resolve(a2.id, 'alice')).rejects.toMatchObject({ code: 'SG_SESSION_NOT_FOUND' });
    // The global cap, for a caller with nothing of its own to give up: 503, nobody is evicted.
    ended.length = 0;
    await expect(open('bob')).rejects.toMatchObject({
      code: 'SG_SESSION_LIMIT',
      message: expect.stringMatching(/too many live sessions$/),
    });
    // The global cap, for Alice: her own least recently used session, although anon's is older.
    await sessions.resolve(a3.id, 'alice');
    clock.advance(10_000);
    await sessions.resolve(a3.id, 'alice');
    const a4 = await open('alice');
    await expect.poll(() => ended.map(([, reason]) => reason)).toEqual(['cap', 'cap']);
    expect(ended[1]![0]).toBe(a1.id);
    for (const { id } of [anon, a3, a4]) expect(await sessions.peek(id)).toBeDefined();
  });

  it("with onCap 'evict-any', past the global cap the least recently used session of anyone ends", async () => {
    const clock = new ManualClock();
    const { sessions, ended, open } = evicting(clock, { maxSessions: 2, onCap: 'evict-any' });
    const anon = await open();
    clock.advance(10_000);
    const alice = await open('alice');
    const bob = await open('bob');
    await expect.poll(() => ended.map(([, reason]) => reason)).toEqual(['cap', 'cap']);
    expect(ended[1]![0]).toBe(anon.id);
    for (const { id } of [alice, bob]) expect(await sessions.peek(id)).toBeDefined();
  });

  it('anonymous callers share one bucket, capped like one principal unless maxAnonymousSessions says otherwise', async () => {
    const clock = new ManualClock();
    const rejecting = evicting(clock, { maxSessionsPerPrincipal: 2 });
    await rejecting.open();
    await rejecting.open();
    await expect(rejecting.open()).rejects.toMatchObject({
      code: 'SG_SESSION_LIMIT',
      message: expect.stringContaining('of anonymous callers'),
    });
    expect(await rejecting.open('alice')).toBeDefined();

    const wider = evicting(clock, { maxSessionsPerPrincipal: 2, maxAnonymousSessions: 3, onCap: 'evict' });
    const oldest = await wider.open();
    clock.advance(1_000);
    for (let i = 0; i < 2; i++) await wider.open();
    const alice = await wider.open('alice');
    await wider.open();
    await expect.poll(() => wider.ended.map(([id]) => id)).toEqual([`disposed ${oldest.id}`, oldest.id]);
    expect(await wider.sessions.peek(alice.id)).toBeDefined();
  });

  it('rejects bad options with a message naming the option', () => {
    expect(() => new SessionManager({ idleTimeoutMs: 0 })).toThrow(/"idleTimeoutMs"/);
    expect(() => new SessionManager({ maxSessions: -3 })).toThrow(/"maxSessions"/);
    expect(() => new SessionManager({ touchFraction: 1 })).toThrow(/"touchFraction"/);
    expect(() => new SessionManager({ onCap: 'drop' as 'evict' })).toThrow(/"onCap"/);
    expect(() => new SessionManager({ maxAnonymousSessions: 0 })).toThrow(/"maxAnonymousSessions"/);
  });

  it('close() stops the sweep timer and frees every process-local resource', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const sessions = new SessionManager({ sweepIntervalMs: 5 });
    const { id } = await sessions.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null });
    let disposed: EndReason | undefined;
    sessions.attach(id, (reason) => void (disposed = reason));
    await sessions.close();
    expect(disposed).toBe('shutdown');
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
    // The record is still in the store: sessions outlive the process on a durable store.
    expect(await sessions.count()).toBe(1);
  });
});

describe('LiveRegistry', () => {
  it('runs every disposer even when one throws and another rejects', async () => {
    const errors: unknown[] = [];
    const registry = new LiveRegistry((error) => errors.push(error));
    const ran: string[] = [];
    registry.attach('s', () => {
      throw new Error('first');
    });
    registry.attach('s', async () => {
      ran.push('second');
      throw new Error('second');
    });
    registry.attach('s', () => void ran.push('third'));
    await registry.dispose('s', 'delete');
    expect(ran).toEqual(['second', 'third']);
    expect(errors).toHaveLength(2);
    expect(registry.has('s')).toBe(false);
  });

  it('detach removes a resource without disposing it', async () => {
    const registry = new LiveRegistry();
    let ran = false;
    const detach = registry.attach('s', () => void (ran = true));
    detach();
    await registry.dispose('s', 'delete');
    expect([ran, registry.size]).toEqual([false, 0]);
  });

  it('takes objects with dispose(), detaches them by identity and finds a resource by predicate', async () => {
    class Resource {
      disposed: string[] = [];
      constructor(readonly name: string) {}
      dispose(reason: EndReason): void {
        this.disposed.push(reason);
      }
    }
    const registry = new LiveRegistry();
    const a = new Resource('a');
    const b = new Resource('b');
    const calls: string[] = [];
    registry.attach('s', a);
    registry.attach('s', () => void calls.push('fn'));
    registry.attach('s', b);
    registry.attach('t', () => void calls.push('other session'));
    const named = (name: string) => (resource: unknown) => resource instanceof Resource && resource.name === name;
    expect(registry.find('s', named('b'))).toBe(b);
    expect(registry.find('t', named('b'))).toBeUndefined();
    registry.detach('s', a);
    expect(registry.find('s', named('a'))).toBeUndefined();
    await registry.dispose('s', 'idle');
    expect([a.disposed, b.disposed, calls]).toEqual([[], ['idle'], ['fn']]);
    // One resource alone is kept as itself: found, detached, and the session forgotten.
    registry.attach('u', a);
    expect(registry.find('u', named('a'))).toBe(a);
    registry.detach('u', a);
    expect(registry.has('u')).toBe(false);
  });
});
