/**
 * @module store/sqlite/sqlite-stream-log
 * Stream events in the SQLite file: each `write` is one transaction (the writer batches events,
 * so there is one per batch, not per event), and they survive a restart or a kill -9.
 */
import type Database from 'better-sqlite3';
import type { RequestId } from '../../protocol/jsonrpc.js';
import type { LoggedEvent, StreamHead, StreamLog, StreamPage } from '../stream-log.js';

export const STREAM_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS stream_heads (
  session_id TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  done INTEGER NOT NULL,
  keep_until INTEGER NOT NULL,
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

interface HeadRow {
  request_id: string;
  owner: string;
  done: number;
  keep_until: number;
}

export class SqliteStreamLog implements StreamLog {
  readonly #write;
  readonly #drop;
  readonly #sweep;
  readonly #stmt;

  constructor(db: Database.Database) {
    db.exec(STREAM_LOG_SCHEMA);
    this.#stmt = {
      head: db.prepare<[string, string], HeadRow>(
        'SELECT request_id, owner, done, keep_until FROM stream_heads WHERE session_id = ? AND stream_id = ?',
      ),
      putHead: db.prepare(
        'INSERT OR REPLACE INTO stream_heads (session_id, stream_id, request_id, owner, done, keep_until) VALUES (?, ?, ?, ?, ?, ?)',
      ),
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
    this.#write = db.transaction(
      (sessionId: string, streamId: string, head: StreamHead, events: readonly LoggedEvent[], keepUntil: number, maxEvents: number) => {
        stmt.putHead.run(sessionId, streamId, JSON.stringify(head.requestId), head.owner, head.done ? 1 : 0, keepUntil);
        for (const event of events) stmt.putEvent.run(sessionId, streamId, event.seq, event.data);
        const last = events.at(-1);
        if (last && last.seq > maxEvents) stmt.trim.run(sessionId, streamId, last.seq - maxEvents);
      },
    );
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

  async write(
    sessionId: string,
    streamId: string,
    head: StreamHead,
    events: readonly LoggedEvent[],
    keepUntil: number,
    maxEvents: number,
  ): Promise<void> {
    this.#write.immediate(sessionId, streamId, head, events, keepUntil, maxEvents);
  }

  async read(sessionId: string, streamId: string, afterSeq: number, limit: number, now: number): Promise<StreamPage | undefined> {
    const row = this.#stmt.head.get(sessionId, streamId);
    if (!row || row.keep_until <= now) return undefined;
    const head: StreamHead = { requestId: JSON.parse(row.request_id) as RequestId | null, owner: row.owner, done: row.done === 1 };
    return { head, events: this.#stmt.events.all(sessionId, streamId, afterSeq, limit) };
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
