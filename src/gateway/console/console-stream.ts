/**
 * @module gateway/console/console-stream
 * What the console shows of sessions and how it stays live (docs/CONSOLE.md, "Views"): one row
 * per live session from the store (so every replica's), and the SSE stream an open console
 * reads: the sessions and the calls waiting for an operator every second, each audit event as it happens (in batches), the charts'
 * points.
 */
import type { ServerResponse } from 'node:http';
import { sessionTag } from '../../session/id.js';
import { type ApprovalRecord, MAX_LISTED_APPROVALS } from '../../store/approval-record.js';
import { expiresAt, type SessionRecord } from '../../store/record.js';
import { summary } from '../ops/admin.js';
import { upstreamOf } from '../upstreams/http/http-link.js';
import type { ConsoleApiOptions } from './console-api.js';
import { batchedFrames } from './console-feed.js';

/** Sessions a console lists at most. */
const MAX_LISTED = 2000;

/** A call waiting for an operator, as the console shows it: the record, its age and time left. */
export type WaitingCall = ApprovalRecord & { ageMs: number; leftMs: number };

/** Every call waiting for an operator (every replica's), oldest first, with age and time left on the store's clock. */
export function waitingCalls({ sessions, approvals }: ConsoleApiOptions): () => Promise<WaitingCall[]> {
  return async () => {
    const now = sessions.now();
    const pending = (await approvals?.pending(MAX_LISTED_APPROVALS)) ?? [];
    return pending.map((approval) => ({ ...approval, ageMs: now - approval.createdAt, leftMs: approval.expiresAt - now }));
  };
}

/** A held call as a session's row names it. */
function heldCall({ call }: ApprovalRecord): { method: unknown; name: unknown } {
  return { method: call['method'], name: call['name'] };
}

/**
 * A session as its row shows it: the admin API's summary, what this replica saw of it, and the
 * calls of it that wait for an operator (`held`; a held call has not finished, so no "last
 * call" names it).
 */
export function sessionRow({
  sessions,
  recent,
  upstream,
}: ConsoleApiOptions): (record: SessionRecord, waiting?: readonly ApprovalRecord[]) => Record<string, unknown> {
  return (record, waiting = []) => {
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
      held: waiting.filter((approval) => approval.call['session'] === tag).map(heldCall),
    };
  };
}

/** Every live session's row, from the store (every replica's), up to MAX_LISTED. */
export function sessionRows(
  options: ConsoleApiOptions,
  row: (record: SessionRecord, waiting?: readonly ApprovalRecord[]) => Record<string, unknown>,
): (waiting?: readonly ApprovalRecord[]) => Promise<Record<string, unknown>[]> {
  return async (waiting = []) => {
    const all: SessionRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await options.sessions.list(cursor, 500);
      all.push(...page.records);
      cursor = page.next;
    } while (cursor !== undefined && all.length < MAX_LISTED);
    return all.map((record) => row(record, waiting));
  };
}

/** Feeds an open console stream (its headers sent) until the returned function is called. */
export function streamConsole(
  res: ServerResponse,
  { feed, history }: ConsoleApiOptions,
  rows: (waiting?: readonly ApprovalRecord[]) => Promise<Record<string, unknown>[]>,
  waiting: () => Promise<WaitingCall[]>,
): () => void {
  const send = (event: string, data: unknown): void => void res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('metrics', history.points);
  const tail = batchedFrames((frames) => void res.write(frames));
  const unwatch = feed.watch(tail.watcher);
  const unwatchPoints = history.watch((point) => send('point', point));
  const tick = async (): Promise<void> => {
    const calls = await waiting().catch(() => []);
    send('approvals', calls);
    send('sessions', await rows(calls).catch(() => []));
  };
  void tick();
  const timer = setInterval(() => void tick(), 1000);
  return () => {
    clearInterval(timer);
    unwatch();
    tail.stop();
    unwatchPoints();
  };
}
