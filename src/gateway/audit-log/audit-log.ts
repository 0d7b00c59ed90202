/**
 * @module gateway/audit-log/audit-log
 * The audit log's writer (docs/AUDIT.md): one JSON line per event, each chained to the one
 * before (audit-chain.ts), naming its replica. To a file (appended; a restart continues the
 * chain, a line a crash cut short is recorded as such) or stdout (a new chain per run).
 * Optionally rotated by size or age, each new file chained to the last; optionally with an
 * Ed25519-signed checkpoint every N lines and at close. Lines are written in order, in batches
 * at most 20 ms old, and flushed on close.
 */
import { OptionError } from '../../protocol/options.js';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { checkOptions, option } from '../../protocol/options.js';
import type { AuditEvent, EventSink } from '../audit-events.js';
import { type ChainHead, chainLine, EMPTY_CHAIN, signCheckpoint } from './audit-chain.js';
import { readAuditTail } from './audit-file-tail.js';

/** A batch written at once, at most (characters), and how long a line may wait for its batch. */
const BATCH_CHARS = 64 * 1024;
const FLUSH_MS = 20;

export interface AuditLogOptions {
  /** The name every line carries, whose chain it is. Default: the host name. */
  replica?: string;
  /** A file past this many bytes is rotated (renamed with a time stamp; a new one is begun). Default: never. */
  rotateBytes?: number;
  /** A file older than this (ms) is rotated. Default: never. */
  rotateMs?: number;
  /** An Ed25519 private key: a signed checkpoint every `checkpointEvery` lines and at close. */
  signingKey?: KeyObject;
  /** Lines between checkpoints (with `signingKey`). Default 1000. */
  checkpointEvery?: number;
}

export class AuditLog implements EventSink {
  readonly #path: string | undefined;
  readonly #replica: string;
  readonly #options: AuditLogOptions;
  /** The file's descriptor (appending); undefined for stdout. */
  #fd: number | undefined;
  #head: ChainHead = EMPTY_CHAIN;
  #bytes = 0;
  #openedAt = Date.now();
  #sinceCheckpoint = 0;
  /** Lines not yet written, and the timer that will write them. */
  #pending = '';
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** `target` is a file path (appended to, folders created) or "stdout". */
  constructor(target: string, options: AuditLogOptions = {}) {
    checkOptions(
      { rotateBytes: option.positiveInteger, rotateMs: option.positiveInteger, checkpointEvery: option.positiveInteger },
      options,
    );
    this.#options = options;
    this.#replica = options.replica ?? hostname();
    if (target === 'stdout') {
      if (options.rotateBytes !== undefined || options.rotateMs !== undefined)
        throw new OptionError('rotate', 'sessiongate: audit rotation needs an audit file, not stdout');
      this.#path = undefined;
      this.#append({ event: 'audit.started', sink: 'stdout' });
      return;
    }
    this.#path = target;
    mkdirSync(dirname(target), { recursive: true });
    const tail = readAuditTail(target, this.#replica);
    this.#head = tail.head;
    this.#bytes = tail.size;
    this.#fd = openSync(target, 'a');
    // A line a crash cut short stays as it was (the log is never edited); the chain resumes after it.
    if (tail.truncatedBytes > 0) this.#raw('\n');
    this.#append({ event: 'audit.started', sink: 'file', ...(tail.truncatedBytes > 0 ? { truncatedBytes: tail.truncatedBytes } : {}) });
  }

  write(event: AuditEvent): void {
    if (this.#dueForRotation()) this.#rotate();
    this.#append(event);
    // After close (a session ended during shutdown) each line gets a final checkpoint of its own: the log still ends signed.
    if (this.#options.signingKey && this.#closed) this.#checkpoint(true);
    else if (this.#options.signingKey && ++this.#sinceCheckpoint >= (this.#options.checkpointEvery ?? 1000)) this.#checkpoint();
  }

  /**
   * Writes the run's final checkpoint (with a signing key; always, so a log cut after an earlier
   * checkpoint is told from a clean end), then flushes everything written so far.
   */
  async close(): Promise<void> {
    if (this.#options.signingKey && !this.#closed) this.#checkpoint(true);
    this.#flush();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#closed = true;
  }

  #append(fields: object): void {
    const { text, head } = chainLine({ time: new Date().toISOString(), replica: this.#replica, ...fields }, this.#head);
    this.#head = head;
    this.#raw(`${text}\n`);
  }

  /**
   * Lines are written in batches (docs/AUDIT.md, "Durability"): at most FLUSH_MS after the first
   * of them, or at once past BATCH_CHARS, each batch one synchronous append. A write per line,
   * through a stream and libuv's thread pool, cost more than the hash chain itself (bench/
   * RESULTS.md, "Issue 19"). Order is kept; close and rotation write what is pending first.
   */
  #raw(text: string): void {
    this.#bytes += Buffer.byteLength(text);
    this.#pending += text;
    if (this.#pending.length >= BATCH_CHARS) this.#flush();
    else this.#flushTimer ??= setTimeout(() => this.#flush(), FLUSH_MS).unref();
  }

  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const text = this.#pending;
    if (text === '') return;
    this.#pending = '';
    if (this.#path === undefined) {
      process.stdout.write(text);
      return;
    }
    try {
      // An event after close (a late session end) is still kept: appended on its own.
      if (this.#closed) appendFileSync(this.#path, text);
      else writeSync(this.#fd!, text);
    } catch (error) {
      // A full or failing disk must not take the gateway down with it: said on stderr, each time.
      process.stderr.write(`sessiongate: audit log ${this.#path}: ${(error as Error).message}\n`);
    }
  }

  #checkpoint(final = false): void {
    this.#sinceCheckpoint = 0;
    const signature = signCheckpoint(this.#options.signingKey!, this.#replica, this.#head, final);
    this.#append({ event: 'audit.checkpoint', ...(final ? { final: true } : {}), signature });
  }

  #dueForRotation(): boolean {
    const { rotateBytes, rotateMs } = this.#options;
    return (
      this.#path !== undefined &&
      ((rotateBytes !== undefined && this.#bytes >= rotateBytes) || (rotateMs !== undefined && Date.now() - this.#openedAt >= rotateMs))
    );
  }

  /**
   * The file renamed with a time stamp (what is pending is written to it first), a new one
   * begun whose first line chains to the last of the old.
   */
  #rotate(): void {
    const path = this.#path!;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    let rotated = `${path}.${stamp}`;
    for (let n = 1; existsSync(rotated); n++) rotated = `${path}.${stamp}-${n}`;
    this.#flush(); // what was written before belongs to the renamed file
    renameSync(path, rotated);
    closeSync(this.#fd!);
    this.#fd = openSync(path, 'a');
    this.#bytes = 0;
    this.#openedAt = Date.now();
    this.#append({ event: 'audit.rotated', from: basename(rotated) });
  }
}
