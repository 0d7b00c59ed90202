/**
 * @module gateway/upstreams/stdio/child-ledger
 * A record on disk of the stdio children this process runs, so that the next start can stop
 * the ones a previous run left behind (docs/limits.md, "Child processes"): a gateway killed
 * with SIGKILL cannot stop its children, and a child that ignores the end of its stdin lives on.
 *
 * One file per child, named by its pid, holding its start time and its gateway's pid and start
 * time. A child is an orphan when its gateway is gone (no process with that pid and start
 * time) and the child itself still is the process that was recorded (same pid, same start
 * time: a recycled pid is never signalled). Start times come from /proc, so reaping works where
 * /proc does (Linux); elsewhere the ledger records nothing.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OptionError } from '../../../protocol/options.js';

/** A process, as /proc tells it apart from any later one with the same pid. */
interface ProcessMark {
  pid: number;
  /** Clock ticks after boot at which it started (/proc/PID/stat, field 22). */
  started: number;
}

interface Entry {
  child: ProcessMark;
  gateway: ProcessMark;
}

/** How long orphans get to stop after SIGTERM before SIGKILL. */
const REAP_GRACE_MS = 2000;

/** The default place: one per user, under the system's temporary directory. */
export function defaultLedgerDirectory(): string {
  return join(tmpdir(), `sessiongate-${process.getuid?.() ?? 'user'}`, 'children');
}

/** When `pid` started, or undefined when there is no such live process (or no /proc). */
export function startTimeOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited; it only waits for its parent to collect it.
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    const started = Number(fields[19]);
    return Number.isFinite(started) ? started : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(mark: ProcessMark): boolean {
  return startTimeOf(mark.pid) === mark.started;
}

export class ChildLedger {
  readonly directory: string;
  readonly #gateway: ProcessMark | undefined;

  constructor(directory: string = defaultLedgerDirectory()) {
    this.directory = directory;
    const started = startTimeOf(process.pid);
    this.#gateway = started === undefined ? undefined : { pid: process.pid, started };
    if (this.#gateway === undefined) return;
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    // Its files name processes to signal: only a directory of this user's, closed to others.
    const { uid, mode } = statSync(directory);
    if ((process.getuid !== undefined && uid !== process.getuid()) || (mode & 0o077) !== 0) {
      throw new OptionError(
        'directory',
        `the child ledger ${directory} must belong to this user with mode 0700 (--child-ledger DIR, or off)`,
      );
    }
  }

  /** Writes down a child just spawned. */
  record(pid: number | undefined): void {
    if (this.#gateway === undefined || pid === undefined) return;
    const started = startTimeOf(pid);
    if (started === undefined) return; // already gone
    const entry: Entry = { child: { pid, started }, gateway: this.#gateway };
    writeFileSync(join(this.directory, String(pid)), JSON.stringify(entry), { mode: 0o600 });
  }

  /** Crosses out a child that exited. */
  forget(pid: number | undefined): void {
    if (this.#gateway === undefined || pid === undefined) return;
    rmSync(join(this.directory, String(pid)), { force: true });
  }

  /**
   * Stops the children of gateways that are gone (SIGTERM, then SIGKILL after 2 s) and
   * crosses out every entry whose child or gateway is gone. Returns the pids stopped.
   */
  async reapOrphans(): Promise<number[]> {
    if (this.#gateway === undefined) return [];
    const orphans: ProcessMark[] = [];
    for (const name of readdirSync(this.directory)) {
      const entry = readEntry(join(this.directory, name));
      if (entry !== undefined && isRunning(entry.gateway)) continue;
      if (entry !== undefined && isRunning(entry.child)) orphans.push(entry.child);
      else rmSync(join(this.directory, name), { force: true });
    }
    for (const orphan of orphans) signal(orphan.pid, 'SIGTERM');
    const deadline = Date.now() + REAP_GRACE_MS;
    while (orphans.some(isRunning) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const orphan of orphans) {
      if (isRunning(orphan)) signal(orphan.pid, 'SIGKILL');
      rmSync(join(this.directory, String(orphan.pid)), { force: true });
    }
    return orphans.map((orphan) => orphan.pid);
  }
}

function readEntry(path: string): Entry | undefined {
  try {
    const entry = JSON.parse(readFileSync(path, 'utf8')) as Entry;
    const valid = (mark: unknown): boolean =>
      typeof mark === 'object' &&
      mark !== null &&
      Number.isInteger((mark as ProcessMark).pid) &&
      Number.isFinite((mark as ProcessMark).started);
    return valid(entry.child) && valid(entry.gateway) ? entry : undefined;
  } catch {
    return undefined; // half-written by a gateway killed while writing: nothing to trust
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone meanwhile
  }
}
