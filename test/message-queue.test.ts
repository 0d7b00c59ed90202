/**
 * MessageQueue's bound: backpressure past the high water, the stream ended past the most it may
 * hold (server/message-queue.ts; docs/limits.md, "Streams").
 */
import { describe, expect, it } from 'vitest';
import { MessageQueue, type QueueBound } from '../src/server/message-queue.js';

function bounded(overflows: string[]): { queue: MessageQueue<string>; bound: QueueBound<string> } {
  const bound: QueueBound<string> = {
    maxBytes: 1000,
    highBytes: 100,
    sizeOf: (item) => item.length,
    onOverflow: () => overflows.push('over'),
  };
  return { queue: new MessageQueue<string>(undefined, bound), bound };
}

describe('MessageQueue bound', () => {
  it('asks the producer to wait past the high water, and lets it go once the reader is down to a quarter', async () => {
    // An item pushed to a reader already waiting for it is never measured.
    const keepingUp = bounded([]).queue;
    const read = keepingUp.next();
    keepingUp.push('r'.repeat(500));
    expect(await read).toEqual({ value: 'r'.repeat(500), done: false });
    expect(keepingUp.pressure()).toBeUndefined();
    const overflows: string[] = [];
    const { queue } = bounded(overflows);
    for (let i = 0; i < 10; i++) queue.push('x'.repeat(10));
    expect(queue.pressure()).toBeUndefined();
    queue.push('y'.repeat(10));
    const waiting = queue.pressure();
    expect(waiting).toBeInstanceOf(Promise);
    expect(queue.pressure()).toBe(waiting); // one promise for every producer
    expect(MessageQueue.behind).toBe(1);
    let released = false;
    void waiting!.then(() => (released = true));
    for (let i = 0; i < 8; i++) await queue.next();
    await Promise.resolve();
    expect(released).toBe(false); // 30 bytes unread: above a quarter of 100
    await queue.next();
    await Promise.resolve();
    expect(released).toBe(true);
    expect(MessageQueue.behind).toBe(0);
    expect(overflows).toEqual([]);
  });

  it('ending the queue (its reader gone) lets a waiting producer go; past maxBytes it is ended', async () => {
    const overflows: string[] = [];
    const { queue } = bounded(overflows);
    for (let i = 0; i < 30; i++) queue.push('z'.repeat(10));
    const waiting = queue.pressure()!;
    await queue.return();
    await waiting;
    expect(MessageQueue.behind).toBe(0);
    const other = bounded(overflows).queue;
    for (let i = 0; i < 101; i++) other.push('w'.repeat(10));
    expect(overflows).toEqual(['over']);
    expect(other.closed).toBe(true);
    expect(other.pressure()).toBeUndefined();
  });
});
