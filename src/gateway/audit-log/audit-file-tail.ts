/**
 * @module gateway/audit-log/audit-file-tail
 * Where an existing audit file's chain stands, so a restarted gateway appends to it without a
 * break (docs/AUDIT.md, "Verifying"): the last complete line's head, and how many
 * bytes follow it without a newline (a write a crash cut short).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type ChainHead, EMPTY_CHAIN } from './audit-chain.js';

/** How far back from the end a tail is looked for: far more than any one audit line. */
const TAIL_BYTES = 1024 * 1024;

export interface AuditTail {
  /** The last complete line's chain head; the empty chain when it is not a chained line of `replica`. */
  head: ChainHead;
  /** Bytes after the last newline: a line cut short (0 when the file ends cleanly or is empty). */
  truncatedBytes: number;
  /** The file's size. */
  size: number;
}

export function readAuditTail(path: string, replica: string): AuditTail {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { head: EMPTY_CHAIN, truncatedBytes: 0, size: 0 };
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lastNewline = buffer.lastIndexOf(0x0a);
    const truncatedBytes = length - lastNewline - 1;
    if (lastNewline < 0) return { head: EMPTY_CHAIN, truncatedBytes, size };
    const start = buffer.lastIndexOf(0x0a, lastNewline - 1) + 1;
    return { head: headOf(buffer.subarray(start, lastNewline).toString('utf8'), replica), truncatedBytes, size };
  } finally {
    closeSync(fd);
  }
}

/** A line's head when it is a chained line of `replica`. */
function headOf(text: string, replica: string): ChainHead {
  try {
    const line = JSON.parse(text) as Record<string, unknown>;
    if (line['replica'] === replica && typeof line['seq'] === 'number' && typeof line['hash'] === 'string')
      return { seq: line['seq'], hash: line['hash'] };
  } catch {
    // not a line of ours: a new chain starts
  }
  return EMPTY_CHAIN;
}
