/**
 * FairSlots: the upstream's exchanges at once, in turns among sessions (gateway/upstreams/fair-slots.ts).
 */
import { describe, expect, it } from 'vitest';
import { FairSlots } from '../src/gateway/upstreams/fair-slots.js';

/** Work that finishes when told to, recording when it started. */
function gate(log: string[], name: string): { work: () => Promise<string>; finish: () => void } {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    work: async () => {
      log.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

describe('FairSlots', () => {
  it('runs at most `capacity` at once; waiting sessions take turns, one per freed slot', async () => {
    const slots = new FairSlots(2, 2); // each session a person of its own, allowed every slot
    const started: string[] = [];
    const flood = Array.from({ length: 6 }, (_, i) => gate(started, `a${i}`));
    const runs = flood.map((g) => slots.run('a', g.work));
    const b = gate(started, 'b0');
    const c = gate(started, 'c0');
    const others = [slots.run('b', b.work), slots.run('c', c.work)];
    await Promise.resolve();
    expect(started).toEqual(['a0', 'a1']);
    expect(slots.running).toBe(2);
    expect(slots.waitingSessions).toBe(3);
    expect(slots.waiting).toBe(6);
    // a's backlog queued first, but each freed slot goes to the next session in the ring.
    flood[0]!.finish();
    await expect.poll(() => started.length).toBe(3);
    flood[1]!.finish();
    await expect.poll(() => started.length).toBe(4);
    expect(started).toEqual(['a0', 'a1', 'a2', 'b0']);
    b.finish();
    await expect.poll(() => started.length).toBe(5);
    expect(started.at(-1)).toBe('c0');
    c.finish();
    for (const g of flood.slice(2)) g.finish();
    expect(await Promise.all([...runs, ...others])).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'b0', 'c0']);
    expect(slots.running).toBe(0);
    expect(slots.waitingSessions).toBe(0);
    expect(slots.waiting).toBe(0);
  });

  it('an abort while waiting leaves the line: the work never starts, the slot goes to the next', async () => {
    const slots = new FairSlots(1);
    const started: string[] = [];
    const first = gate(started, 'first');
    const running = slots.run('a', first.work);
    const abort = new AbortController();
    const skipped = slots.run('b', gate(started, 'skipped').work, abort.signal);
    const next = gate(started, 'next');
    const later = slots.run('b', next.work);
    abort.abort(new Error('client gone'));
    await expect(skipped).rejects.toThrow('client gone');
    first.finish();
    next.finish();
    expect(await Promise.all([running, later])).toEqual(['first', 'next']);
    expect(started).toEqual(['first', 'next']);
    await expect(slots.run('c', async () => 'free', AbortSignal.abort(new Error('never')))).resolves.toBe('free');
  });

  it('a failing or throwing work frees its slot', async () => {
    const slots = new FairSlots(1);
    await expect(slots.run('a', () => Promise.reject(new Error('upstream down')))).rejects.toThrow('upstream down');
    await expect(
      slots.run('a', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(slots.running).toBe(0);
    expect(() => new FairSlots(0)).toThrow(/positive integer/);
    expect(() => new FairSlots(4, 5)).toThrow(/from 1 to 4/);
  });

  it('one person holds at most their share, whatever their sessions; the rest goes to others, people and then sessions in turn', async () => {
    const slots = new FairSlots(4); // a share of 2
    expect(slots.perPrincipal).toBe(2);
    const started: string[] = [];
    const alice = ['s1', 's1', 's1', 's2', 's2', 's3'].map((session, i) => ({ session, ...gate(started, `alice-${session}-${i}`) }));
    const runs = alice.map((call) => slots.run(call.session, call.work, undefined, 'alice'));
    await Promise.resolve();
    // Two slots free, and Alice at her share: her other four wait.
    expect(started).toEqual(['alice-s1-0', 'alice-s1-1']);
    const bob = gate(started, 'bob');
    const bobRun = slots.run('b1', bob.work, undefined, 'bob');
    await expect.poll(() => started).toContain('bob');
    // Anonymous sessions are people of their own.
    const anon = [gate(started, 'anon-x'), gate(started, 'anon-y')];
    const anonRuns = [slots.run('x', anon[0]!.work, undefined, null), slots.run('y', anon[1]!.work, undefined, null)];
    await expect.poll(() => started).toContain('anon-x');
    expect(started).not.toContain('anon-y');
    // Alice's freed slots go to her sessions in turn: s1's waiting call, then s2's, not s1's again.
    alice[0]!.finish();
    await expect.poll(() => started.length).toBe(5);
    expect(started.at(-1)).toBe('alice-s1-2');
    // The next freed slot: the next person in the ring (anonymous y waited since before), then Alice's s2.
    alice[1]!.finish();
    await expect.poll(() => started.length).toBe(6);
    expect(started.at(-1)).toBe('anon-y');
    bob.finish();
    await expect.poll(() => started.length).toBe(7);
    expect(started.at(-1)).toBe('alice-s2-3');
    for (const call of alice) call.finish();
    for (const call of anon) call.finish();
    await Promise.all([...runs, bobRun, ...anonRuns]);
    expect(slots.running).toBe(0);
    expect(slots.waiting).toBe(0);
  });
});
