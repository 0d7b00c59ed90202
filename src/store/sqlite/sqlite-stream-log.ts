/**
 * @module store/sqlite/sqlite-stream-log
 * Stream events in the SQLite file: each `write` is one transaction (the writer batches events,
 * so there is one per batch, not per event), and they survive a restart or a kill -9.
 */
import type Database from 'better-sqlite3';
import type { RequestId } from '../../protocol/jsonrpc.js';
import type { LoggedEvent, StreamHead, StreamLog, StreamPage, StreamWrite } from '../stream-log.js';

export const STREAM_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS stream_heads (
  session_id TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  done INTEGER NOT NULL,
  keep_until INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  cursor TEXT,
  PRIMARY KEY (session_id, stream_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS stream_heads_by_age ON stream_heads (keep_until);
CREATE TABLE IF NOT EXISTS stream_events (
  session_id TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (session_id, stream_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (owner TEXT PRIMARY KEY, alive_until INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Columns added after the table first shipped: a file made before gets them on open. */
const ADDED_COLUMNS = ['last_seq INTEGER NOT NULL DEFAULT 0', 'cursor TEXT'];

interface HeadRow {
  request_id: string;
  owner: string;
  done: number;
  keep_until: number;
  last_seq: number;
  cursor: string | null;
}

export class SqliteStreamLog implements StreamLog {
  readonly #write;
  readonly #drop;
  readonly #sweep;
  readonly #stmt;

  constructor(db: Database.Database) {
    db.exec(STREAM_LOG_SCHEMA);
    addMissingColumns(db);
    this.#stmt = {
      head: db.prepare<[string, string], HeadRow>(
        'SELECT request_id, owner, done, keep_until, last_seq, cursor FROM stream_heads WHERE session_id = ? AND stream_id = ?',
      ),
      putHead: db.prepare(
        'INSERT OR REPLACE INTO stream_heads (session_id, stream_id, request_id, owner, done, keep_until, last_seq, cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      claim: db.prepare('UPDATE stream_heads SET owner = ? WHERE session_id = ? AND stream_id = ? AND owner = ?'),
      putEvent: db.prepare('INSERT OR IGNORE INTO stream_events (session_id, stream_id, seq, data) VALUES (?, ?, ?, ?)'),
      trim: db.prepare('DELETE FROM stream_events WHERE session_id = ? AND stream_id = ? AND seq <= ?'),
      events: db.prepare<[string, string, number, number], LoggedEvent>(
        'SELECT seq, data FROM stream_events WHERE session_id = ? AND stream_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      dropHeads: db.prepare('DELETE FROM stream_heads WHERE session_id = ?'),
      dropEvents: db.prepare('DELETE FROM stream_events WHERE session_id = ?'),
      due: db.prepare<[number], { session_id: string; stream_id: string }>(
        'SELECT session_id, stream_id FROM stream_heads WHERE keep_until <= ? LIMIT 500',
      ),
      dropHead: db.prepare('DELETE FROM stream_heads WHERE session_id = ? AND stream_id = ?'),
      dropStreamEvents: db.prepare('DELETE FROM stream_events WHERE session_id = ? AND stream_id = ?'),
      putRun: db.prepare('INSERT OR REPLACE INTO runs (owner, alive_until) VALUES (?, ?)'),
      dropRun: db.prepare('DELETE FROM runs WHERE owner = ?'),
      forgetRuns: db.prepare('DELETE FROM runs WHERE alive_until <= ?'),
      run: db.prepare<[string], { alive_until: number }>('SELECT alive_until FROM runs WHERE owner = ?'),
    };
    const stmt = this.#stmt;
    this.#write = db.transaction(({ sessionId, streamId, head, events, keepUntil, maxEvents }: StreamWrite) => {
      const { requestId, owner, done, lastSeq, cursor } = head;
      stmt.putHead.run(sessionId, streamId, JSON.stringify(requestId), owner, done ? 1 : 0, keepUntil, lastSeq, cursor ?? null);
      for (const event of events) stmt.putEvent.run(sessionId, streamId, event.seq, event.data);
      const last = events.at(-1);
      if (last && last.seq > maxEvents) stmt.trim.run(sessionId, streamId, last.seq - maxEvents);
    });
    this.#drop = db.transaction((sessionId: string) => {
      stmt.dropHeads.run(sessionId);
      stmt.dropEvents.run(sessionId);
    });
    this.#sweep = db.transaction((now: number) => {
      for (const due of stmt.due.all(now)) {
        stmt.dropHead.run(due.session_id, due.stream_id);
        stmt.dropStreamEvents.run(due.session_id, due.stream_id);
      }
      stmt.forgetRuns.run(now);
    });
  }

  async write(batch: StreamWrite): Promise<void> {
    this.#write.immediate(batch);
  }

  async read(sessionId: string, streamId: string, afterSeq: number, limit: number, now: number): Promise<StreamPage | undefined> {
    const row = this.#stmt.head.get(sessionId, streamId);
    if (!row || row.keep_until <= now) return undefined;
    const head: StreamHead = {
      requestId: JSON.parse(row.request_id) as RequestId | null,
      owner: row.owner,
      done: row.done === 1,
      lastSeq: row.last_seq,
      cursor: row.cursor ?? undefined,
    };
    return { head, events: this.#stmt.events.all(sessionId, streamId, afterSeq, limit) };
  }

  async claim(sessionId: string, streamId: string, from: string, owner: string): Promise<boolean> {
    return this.#stmt.claim.run(owner, sessionId, streamId, from).changes === 1;
  }

  async drop(sessionId: string): Promise<void> {
    this.#drop.immediate(sessionId);
  }

  async sweep(now: number): Promise<void> {
    this.#sweep.immediate(now);
  }

  async heartbeat(owner: string, aliveUntil: number): Promise<void> {
    if (aliveUntil === 0) this.#stmt.dropRun.run(owner);
    else this.#stmt.putRun.run(owner, aliveUntil);
  }

  async aliveUntil(owner: string): Promise<number> {
    return this.#stmt.run.get(owner)?.alive_until ?? 0;
  }
}

function addMissingColumns(db: Database.Database): void {
  const present = new Set(
    db
      .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('stream_heads')")
      .all()
      .map((column) => column.name),
  );
  for (const column of ADDED_COLUMNS) if (!present.has(column.split(' ')[0]!)) db.exec(`ALTER TABLE stream_heads ADD COLUMN ${column}`);
}
