/**
 * @module gateway/console/console-stream
 * What the console shows of sessions and how it stays live (docs/CONSOLE.md, "Views"): one row
 * per live session from the store (so every replica's), and the SSE stream an open console
 * reads: the sessions every second, each audit event as it happens (in batches), the charts'
 * points.
 */
import type { ServerResponse } from 'node:http';
import { sessionTag } from '../../session/id.js';
import { expiresAt, type SessionRecord } from '../../store/record.js';
import { summary } from '../ops/admin.js';
import { upstreamOf } from '../upstreams/http/http-link.js';
import type { ConsoleApiOptions } from './console-api.js';
import { batchedFrames } from './console-feed.js';

/** Sessions a console lists at most. */
const MAX_LISTED = 2000;

/** A session as its row shows it: the admin API's summary, and what this replica saw of it. */
export function sessionRow({ sessions, recent, upstream }: ConsoleApiOptions): (record: SessionRecord) => Record<string, unknown> {
  return (record) => {
    const tag = sessionTag(record.id);
    const { count, last } = recent.calls(tag);
    const pinned = upstreamOf(record.state);
    const now = sessions.now();
    return {
      ...summary(record),
      era: record.protocolVersion,
      // The upstream it is pinned to (a pool), else what the gateway fronts; its upstream session's tag (HTTP).
      upstream: pinned.url ?? upstream,
      upstreamSession: pinned.session ?? null,
      ageMs: now - record.createdAt,
      idleMs: now - record.lastSeenAt,
      leftMs: expiresAt(record) - now,
      calls: count,
      lastCall: last && last.event === 'request' ? { time: last.time, method: last.method, name: last.name } : null,
    };
  };
}

/** Every live session's row, from the store (every replica's), up to MAX_LISTED. */
export function sessionRows(
  options: ConsoleApiOptions,
  row: (record: SessionRecord) => Record<string, unknown>,
): () => Promise<Record<string, unknown>[]> {
  return async () => {
    const all: SessionRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await options.sessions.list(cursor, 500);
      all.push(...page.records);
      cursor = page.next;
    } while (cursor !== undefined && all.length < MAX_LISTED);
    return all.map(row);
  };
}

/** Feeds an open console stream (its headers sent) until the returned function is called. */
export function streamConsole(
  res: ServerResponse,
  { feed, history }: ConsoleApiOptions,
  rows: () => Promise<Record<string, unknown>[]>,
): () => void {
  const send = (event: string, data: unknown): void => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('metrics', history.points);
  const tail = batchedFrames((frames) => void res.write(frames));
  const unwatch = feed.watch(tail.watcher);
  const unwatchPoints = history.watch((point) => send('point', point));
  const tick = async (): Promise<void> => send('sessions', await rows().catch(() => []));
  void tick();
  const timer = setInterval(() => void tick(), 1000);
  return () => {
    clearInterval(timer);
    unwatch();
    tail.stop();
    unwatchPoints();
  };
}
