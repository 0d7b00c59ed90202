/** The bounded wait of messages for a GET stream not open yet (session/undelivered.ts). */
import { describe, expect, it } from 'vitest';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import { Undelivered } from '../src/session/undelivered.js';

const note = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { n } });
const numbers = (messages: JsonRpcMessage[]): unknown[] =>
  messages.map((message) => (message as unknown as { params: { n: number } }).params.n);

function fixture(limits = { perSession: 3, maxAgeMs: 1000, total: 5 }) {
  const clock = { time: 0, now: () => clock.time };
  const dropped: string[] = [];
  return { clock, dropped, waiting: new Undelivered(clock, (id) => dropped.push(id), limits) };
}

describe('Undelivered', () => {
  it('hands a session its messages oldest first, once', () => {
    const { waiting } = fixture();
    waiting.keep('a', note(1));
    waiting.keep('a', note(2));
    expect(numbers(waiting.take('a'))).toEqual([1, 2]);
    expect(waiting.take('a')).toEqual([]);
    expect(waiting.size).toBe(0);
  });

  it('keeps the newest per session', () => {
    const { waiting } = fixture();
    for (let n = 1; n <= 5; n++) waiting.keep('a', note(n));
    expect(waiting.size).toBe(3);
    expect(numbers(waiting.take('a'))).toEqual([3, 4, 5]);
  });

  it('drops what waited longer than the age limit', () => {
    const { waiting, clock } = fixture();
    waiting.keep('a', note(1));
    clock.time = 600;
    waiting.keep('a', note(2));
    clock.time = 1200;
    expect(numbers(waiting.take('a'))).toEqual([2]);
    expect(waiting.size).toBe(0);
  });

  it('past the total, the session that started waiting first loses its queue, and is told', () => {
    const { waiting, dropped } = fixture();
    waiting.keep('a', note(1));
    waiting.keep('a', note(2));
    waiting.keep('b', note(3));
    waiting.keep('b', note(4));
    waiting.keep('c', note(5));
    expect(dropped).toEqual([]);
    waiting.keep('c', note(6));
    expect(dropped).toEqual(['a']);
    expect(waiting.take('a')).toEqual([]);
    expect(numbers(waiting.take('b'))).toEqual([3, 4]);
    expect(numbers(waiting.take('c'))).toEqual([5, 6]);
  });

  it('forgets an ended session', () => {
    const { waiting } = fixture();
    waiting.keep('a', note(1));
    waiting.forget('a');
    expect(waiting.size).toBe(0);
    expect(waiting.take('a')).toEqual([]);
  });
});
