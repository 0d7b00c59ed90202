/** Lines cut from chunks however the chunks fall (protocol/line-splitter.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteLineSplitter, LineSplitter } from '../src/protocol/line-splitter.js';

function split(chunks: string[], options: { maxLength: number; anyLineEnd?: boolean }): { lines: string[]; tooLong: number[] } {
  const lines: string[] = [];
  const tooLong: number[] = [];
  const splitter = new LineSplitter({ onLine: (line) => lines.push(line), onTooLong: (length) => tooLong.push(length) }, options);
  for (const chunk of chunks) splitter.push(chunk);
  return { lines, tooLong };
}

/** `text` cut at the given positions. */
function cut(text: string, at: number[]): string[] {
  const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(text.slice(from, point));
    from = point;
  }
  chunks.push(text.slice(from));
  return chunks;
}

describe('LineSplitter', () => {
  it('gives the complete lines of LF-separated text whatever the chunking, and keeps the partial last one', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '\n', 'é') })), fc.array(fc.nat()), (parts, at) => {
        const text = parts.join('');
        const expected = text.split('\n').slice(0, -1);
        expect(split(cut(text, at), { maxLength: 1e9 }).lines).toEqual(expected);
      }),
      { seed: 20261127, numRuns: 300 },
    );
  });

  it('with any line end, CR, LF and CRLF each end one line, a CRLF split across chunks included', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', '\r', '\n', '\r\n') })), fc.array(fc.nat()), (parts, at) => {
        const text = parts.join('');
        const expected = text.split(/\r\n|\r|\n/).slice(0, -1);
        expect(split(cut(text, at), { maxLength: 1e9, anyLineEnd: true }).lines).toEqual(expected);
      }),
      { seed: 20261127, numRuns: 300 },
    );
    expect(split(['a\r', '\nb\n'], { maxLength: 100, anyLineEnd: true }).lines).toEqual(['a', 'b']);
  });

  it('reports a line past the limit once, skips the rest of it, and goes on with the next', () => {
    const { lines, tooLong } = split(['ok\n', 'x'.repeat(6), 'x'.repeat(6), 'x\nnext\n'], { maxLength: 10 });
    expect(lines).toEqual(['ok', 'next']);
    expect(tooLong).toHaveLength(1);
    expect(split(['y'.repeat(20) + '\nafter\n'], { maxLength: 10 })).toEqual({ lines: ['after'], tooLong: [20] });
  });

  it('as bytes: the same lines, a character cut across chunks included; a long line is skipped undecoded', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', '\n', 'é', '€', '𝄞') })), fc.array(fc.nat()), (parts, at) => {
        const bytes = Buffer.from(parts.join(''));
        const lines: string[] = [];
        const splitter = new ByteLineSplitter({ onLine: (line) => lines.push(line), onTooLong: () => {} }, { maxLength: 1e9 });
        const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        for (const point of [...points, bytes.length]) {
          splitter.push(bytes.subarray(from, point));
          from = point;
        }
        expect(lines).toEqual(parts.join('').split('\n').slice(0, -1));
      }),
      { seed: 20261127, numRuns: 300 },
    );
    const lines: string[] = [];
    const tooLong: number[] = [];
    const splitter = new ByteLineSplitter({ onLine: (line) => lines.push(line), onTooLong: (n) => tooLong.push(n) }, { maxLength: 8 });
    splitter.push(Buffer.from('ok\n' + 'x'.repeat(6)));
    splitter.push(Buffer.from('x'.repeat(6) + '\nnext\n'));
    expect([lines, tooLong.length]).toEqual([['ok', 'next'], 1]);
  });
});
