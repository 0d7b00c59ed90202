/**
 * @module gateway/audit-log/audit-verify
 * Checks audit lines against their chain (docs/AUDIT.md, "Verifying"), fed one line at a time in
 * the order written (the files of a rotation oldest first). Each replica's lines form a chain of
 * their own. A replica's first line seen may continue from anywhere (a rotated file verified
 * alone); after that every line must follow the one before: its hash right, `seq` one more,
 * `prev` the last hash. A chain may begin again only with an `audit.started` line from
 * GENESIS written to stdout (each run logging there begins a chain). A line a crash cut short is reported as such, not as
 * tampering: the file's last line without a newline, or one followed by the `audit.started`
 * line that says how many bytes it had.
 *
 * With a public key nothing counts that no signature covers
 * (docs/AUDIT.md, "What a signature proves"): every checkpoint's signature must hold; no more
 * than `checkpointEvery` events may stand between two checkpoints; a run must end with its signed final checkpoint before the
 * next run begins and at the end of the log (unless `open`: the newest file is still being
 * written, and its tail after the last checkpoint is a note); a line cut short is a failure.
 * Without a key the chain proves only that no line was edited in place: whoever can write the
 * file can write a whole new chain, so the report says so.
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
  /** Events since its last verified checkpoint (with a public key). */
  unsigned: number;
  /** The first line no checkpoint covers yet. */
  firstUnsigned: LineLocation | undefined;
  signed: boolean;
  /** Its last line is a run's signed final checkpoint. */
  ended: boolean;
  /** Where its last line is. */
  last: LineLocation;
}

export interface VerifyOptions {
  /** The signing key's public half: signatures must cover every line. */
  publicKey?: KeyObject;
  /** The writer's `checkpointEvery` (events between checkpoints, at most). Default 1000. */
  checkpointEvery?: number;
  /** The log is still being written: lines after the last checkpoint are a note, not a failure. */
  open?: boolean;
}

/** What a chain without a signature cannot show, said with every report made without a key. */
export const UNSIGNED_LIMITS =
  'without --public-key only edits in place are found: whoever can write the file can cut its tail, drop lines and re-hash the rest, or begin a new chain';

export class AuditVerifier {
  readonly #key: KeyObject | undefined;
  readonly #every: number;
  readonly #open: boolean;
  readonly #chains = new Map<string, ReplicaChain>();
  readonly #report: AuditReport = { lines: 0, notes: [], checkpoints: 0 };
  /** A line that did not parse, waiting to learn whether a restart explains it. */
  #cutShort: (LineLocation & { bytes: number }) | undefined;

  constructor(options: VerifyOptions = {}) {
    this.#key = options.publicKey;
    this.#every = options.checkpointEvery ?? 1000;
    this.#open = options.open ?? false;
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
      if (this.#key) return this.#break(cut, `a line cut short (${cut.bytes} bytes): no signature covers it`);
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
    if (this.#key) return this.#break(cut, `the last line is cut short or not JSON (${cut.bytes} bytes): no signature covers it`);
    this.#report.notes.push(`${where(cut)}: truncated (${cut.bytes} bytes without a newline: a write cut short), not verified`);
  }

  /** The report, once every line was given. */
  finish(): AuditReport {
    if (!this.#key) {
      this.#report.notes.push(UNSIGNED_LIMITS);
      return this.#report;
    }
    for (const [replica, chain] of this.#chains) {
      if (this.broken || chain.ended) continue;
      const tail =
        chain.firstUnsigned === undefined
          ? `replica ${replica}'s log ends at a checkpoint that is not its run's final one`
          : `replica ${replica}'s last ${chain.unsigned} lines follow its last checkpoint`;
      if (this.#open && chain.unsigned > 0) this.#report.notes.push(`${tail} (not yet signed: the log is open)`);
      else if (!this.#open)
        this.#break(
          chain.firstUnsigned ?? chain.last,
          `${tail} and no final checkpoint ends the log: the tail was cut, or the gateway did not shut down cleanly`,
        );
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
    if (chain && this.#key && fields['event'] === 'audit.started' && !chain.ended)
      return this.#break(
        at,
        `a new run begins, but replica ${replica}'s run before it has no final checkpoint (a crash, or lines removed)`,
      );
    if (!chain) {
      if (!start) this.#report.notes.push(`${where(at)}: replica ${replica}'s chain continues from ${prev} (seq ${seq - 1})`);
      this.#chains.set(replica, { head: { seq, hash }, unsigned: 0, firstUnsigned: undefined, signed: false, ended: false, last: at });
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
    const current = this.#chains.get(replica)!;
    current.last = at;
    this.#checkpoint(fields, at, current);
  }

  #checkpoint(fields: Record<string, unknown>, at: LineLocation, chain: ReplicaChain): void {
    if (!this.#key) return;
    const event = fields['event'];
    if (event !== 'audit.checkpoint') {
      chain.ended = false;
      chain.firstUnsigned ??= at;
      // The writer counts its events only; a run's start and a rotation come on top.
      if (event !== 'audit.started' && event !== 'audit.rotated' && ++chain.unsigned > this.#every)
        return this.#break(at, `more than ${this.#every} lines without a checkpoint (--checkpoint-every): lines were added`);
      return;
    }
    const signature = fields['signature'];
    const final = fields['final'] === true;
    const before = { seq: (fields['seq'] as number) - 1, hash: fields['prev'] as string };
    if (typeof signature !== 'string' || !checkpointValid(this.#key, fields['replica'] as string, before, signature, final))
      return this.#break(at, 'the checkpoint signature does not verify with this public key');
    this.#report.checkpoints++;
    chain.unsigned = 0;
    chain.firstUnsigned = undefined;
    chain.signed = true;
    chain.ended = final;
  }

  #break(at: LineLocation, why: string): void {
    this.#report.broken ??= { file: at.file, line: at.line, why };
  }
}

function where(at: LineLocation): string {
  return `${at.file}:${at.line}`;
}
