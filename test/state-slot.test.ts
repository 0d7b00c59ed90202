/**
 * Typed state slots (session/state-slot.ts): what a store gives back is checked against the
 * slot's schema, never cast; what is written is a JSON copy.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { guarded, stateSlot } from '../src/session/state-slot.js';

const counter = stateSlot('test.counter', z.object({ n: z.number().int(), tags: z.array(z.string()) }));

it('reads a stored value that passes the schema, and nothing for one that does not', () => {
  expect(counter.read({ 'test.counter': { n: 2, tags: ['a'] } })).toEqual({ n: 2, tags: ['a'] });
  expect(counter.read({})).toBeUndefined();
  // What an older version, another application or a hand-edited database left there.
  expect(counter.read({ 'test.counter': { n: 'two', tags: [] } })).toBeUndefined();
  expect(counter.read({ 'test.counter': [1, 2] })).toBeUndefined();
});

it('encodes a copy: changing the object afterwards does not change what was written', () => {
  const value = { n: 1, tags: ['x'] };
  const stored = counter.encode(value);
  value.tags.push('y');
  expect(stored).toEqual({ n: 1, tags: ['x'] });
  expect(counter.encode(undefined)).toBeUndefined();
});

it('takes a type guard as its schema, and refuses an empty key', () => {
  const isText = (value: unknown): value is string => typeof value === 'string';
  const text = stateSlot('test.text', guarded(isText));
  expect(text.read({ 'test.text': 'hi' })).toBe('hi');
  expect(text.read({ 'test.text': 5 })).toBeUndefined();
  expect(() => stateSlot('', guarded(isText))).toThrow(/non-empty key/);
});
