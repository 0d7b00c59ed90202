/**
 * @module gateway/audit-log/audit-verify
 * Checks audit lines against their chain (docs/AUDIT.md, "Verifying"), fed one line at a time in
 * the order written (the files of a rotation oldest first). Each replica's lines form a chain of
 * their own. A replica's first line seen may continue from anywhere (a rotated file verified
 * alone); after that every line must follow the one before: its hash right, `seq` one more,
 * `prev` the last hash. A chain may begin again only with an `audit.started` line from
 * GENESIS written to stdout (each run logging there begins a chain). A line a crash cut short is reported as such, not as
 * tampering: the file's last line without a newline, or one followed by the `audit.started`
 * line that says how many bytes it had. With a public key, every checkpoint's signature must
 * hold and every replica must have one.
 */
import type { KeyObject } from 'node:crypto';
import { type ChainHead, checkpointValid, GENESIS, lineHash } from './audit-chain.js';

/** Where a line is: its file and 1-based line number. */
export interface LineLocation {
  file: string;
  line: number;
}

export interface AuditReport {
  /** Chained lines that verified. */
  lines: number;
  /** The first break: where, and why. Undefined when the chain holds. */
  broken?: LineLocation & { why: string };
  /** What is worth knowing but is no break: truncated lines, chain starts, unsigned tails. */
  notes: string[];
  /** Checkpoints whose signature verified (with a public key). */
  checkpoints: number;
}

interface ReplicaChain {
  head: ChainHead;
  /** Lines since its last verified checkpoint (with a public key). */
  unsigned: number;
  signed: boolean;
}

export class AuditVerifier {
  readonly #key: KeyObject | undefined;
  readonly #chains = new Map<string, ReplicaChain>();
  readonly #report: AuditReport = { lines: 0, notes: [], checkpoints: 0 };
  /** A line that did not parse, waiting to learn whether a restart explains it. */
  #cutShort: (LineLocation & { bytes: number }) | undefined;

  constructor(publicKey?: KeyObject) {
    this.#key = publicKey;
  }

  get broken(): boolean {
    return this.#report.broken !== undefined;
  }

  /** One line (without its newline). */
  line(text: string, at: LineLocation): void {
    if (this.broken) return;
    let fields: Record<string, unknown>;
    try {
      fields = JSON.parse(text) as Record<string, unknown>;
      if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new Error('not an object');
    } catch {
      if (this.#cutShort) return this.#break(this.#cutShort, 'not a JSON object');
      this.#cutShort = { ...at, bytes: Buffer.byteLength(text) };
      return;
    }
    const cut = this.#cutShort;
    this.#cutShort = undefined;
    if (cut) {
      if (fields['event'] !== 'audit.started' || fields['truncatedBytes'] !== cut.bytes) return this.#break(cut, 'not a JSON object');
      this.#report.notes.push(`${where(cut)}: a line cut short by a crash (${cut.bytes} bytes); the chain resumes on the next line`);
    }
    this.#chained(fields, at);
  }

  /** The end of a file; `endedWithNewline` false when its last line had no newline. */
  endOfFile(file: string, endedWithNewline: boolean): void {
    const cut = this.#cutShort;
    if (!cut || this.broken) return;
    this.#cutShort = undefined;
    if (endedWithNewline || cut.file !== file) return this.#break(cut, 'not a JSON object');
    this.#report.notes.push(`${where(cut)}: truncated (${cut.bytes} bytes without a newline: a write cut short), not verified`);
  }

  /** The report, once every line was given. */
  finish(): AuditReport {
    if (!this.broken && this.#key) {
      for (const [replica, chain] of this.#chains) {
        if (!chain.signed) {
          this.#report.broken = { file: '', line: 0, why: `replica ${replica} has no signed checkpoint` };
          break;
        }
        if (chain.unsigned > 0) this.#report.notes.push(`replica ${replica}: the last ${chain.unsigned} lines follow its last checkpoint`);
      }
    }
    return this.#report;
  }

  #chained(fields: Record<string, unknown>, at: LineLocation): void {
    const { replica, seq, prev, hash } = fields;
    if (typeof replica !== 'string' || typeof seq !== 'number' || typeof prev !== 'string' || typeof hash !== 'string')
      return this.#break(at, 'not a chained audit line (replica, seq, prev and hash are needed)');
    if (lineHash(fields) !== hash) return this.#break(at, 'its hash does not match its content (the line was edited)');
    const chain = this.#chains.get(replica);
    const start = fields['event'] === 'audit.started' && prev === GENESIS && seq === 1;
    // Only a run logging to stdout begins again: a file's chain begins once (older files put after newer ones break here).
    const restart = start && fields['sink'] === 'stdout';
    if (!chain) {
      if (!start) this.#report.notes.push(`${where(at)}: replica ${replica}'s chain continues from ${prev} (seq ${seq - 1})`);
      this.#chains.set(replica, { head: { seq, hash }, unsigned: 0, signed: false });
    } else if (restart) {
      this.#report.notes.push(`${where(at)}: replica ${replica} began a new chain (a new run logging to stdout)`);
      chain.head = { seq, hash };
    } else if (prev !== chain.head.hash) {
      return this.#break(at, `prev is not the hash of replica ${replica}'s line before (a line was removed, inserted or reordered)`);
    } else if (seq !== chain.head.seq + 1) {
      return this.#break(at, `seq ${seq} does not follow ${chain.head.seq}`);
    } else {
      chain.head = { seq, hash };
    }
    this.#report.lines++;
    this.#checkpoint(fields, at, this.#chains.get(replica)!);
  }

  #checkpoint(fields: Record<string, unknown>, at: LineLocation, chain: ReplicaChain): void {
    if (!this.#key) return;
    if (fields['event'] !== 'audit.checkpoint') {
      chain.unsigned++;
      return;
    }
    const signature = fields['signature'];
    const before = { seq: (fields['seq'] as number) - 1, hash: fields['prev'] as string };
    if (typeof signature !== 'string' || !checkpointValid(this.#key, fields['replica'] as string, before, signature))
      return this.#break(at, 'the checkpoint signature does not verify with this public key');
    this.#report.checkpoints++;
    chain.unsigned = 0;
    chain.signed = true;
  }

  #break(at: LineLocation, why: string): void {
    this.#report.broken ??= { file: at.file, line: at.line, why };
  }
}

function where(at: LineLocation): string {
  return `${at.file}:${at.line}`;
}
