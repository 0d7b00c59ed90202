/**
 * Churn: 1,000 stdio sessions through the gateway, each with its own child, ended by DELETE, by
 * cap eviction and by idle expiry. Afterwards no session child is left (process table checked,
 * every pid seen), and the audit trail holds one "session.ended" line per session with its
 * reason. The child is a dependency-free MCP server so that a thousand starts fit in CI.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { audited } from '../../src/gateway/ops/audit.js';
import { type AuditEvent, type EventSink, sessionEnded } from '../../src/gateway/audit-events.js';
import { stdioUpstream } from '../../src/gateway/upstreams/stdio/stdio-upstream.js';
import { ManualClock } from '../helpers/clock.js';
import { openSession, send, toolCall } from '../helpers/mcp-http.js';
import { childrenRunning, isAlive } from '../helpers/processes.js';
import { startServer, type RunningServer } from '../helpers/test-server.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/tiny-stdio-server.mjs', import.meta.url));
const SPARES = 2;
const CAP = 20;
const IDLE_MS = 60_000;

let gateway: RunningServer | undefined;
afterAll(async () => gateway?.close());

const fixtureChildren = (): number[] => childrenRunning('tiny-stdio-server.mjs');

/** Runs `work` for 0..count-1, `width` at a time. */
async function inParallel(count: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

it(
  '1,000 stdio sessions ended by DELETE, cap eviction and idle expiry leave no child, and each end is audited',
  { timeout: 240_000 },
  async () => {
    const events: AuditEvent[] = [];
    const sink: EventSink = { write: (event) => void events.push(event) };
    const clock = new ManualClock();
    gateway = await startServer({
      application: audited(
        stdioUpstream({ command: process.execPath, args: [FIXTURE], spares: SPARES, killGraceMs: 1000, onStderr: () => {} }),
        sink,
      ),
      clock,
      idleTimeoutMs: IDLE_MS,
      maxSessions: CAP,
      onCap: 'evict',
    });
    const endedIds = new Set<string>();
    gateway.server.sessions.onEnd((record, reason) => {
      endedIds.add(record.id);
      sink.write(sessionEnded(record, reason));
    });
    const { url } = gateway;
    const pids = new Set<number>();

    /** initialize + initialized + whoami: the session's child answers with its pid. */
    async function session(): Promise<string> {
      const id = await openSession(url);
      const answer = await send(url, {
        body: toolCall('whoami', {}),
        headers: { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
      });
      const pid = Number((answer.json as { result: { content: { text: string }[] } }).result.content[0]!.text);
      expect(pid).toBeGreaterThan(0);
      pids.add(pid);
      return id;
    }

    // 1. 340 sessions ended by DELETE, eight at a time.
    await inParallel(340, 8, async () => {
      const id = await session();
      expect((await send(url, { method: 'DELETE', headers: { 'mcp-session-id': id } })).status).toBe(204);
    });
    // 2. 330 sessions one after another under a cap of 20: every one past the cap evicts the least
    // recently used (the clock moves, so that is always the oldest).
    for (let i = 0; i < 330; i++) {
      clock.advance(1);
      await session();
    }
    // 3. The 20 that phase 2 left expire; then 330 sessions in batches of up to 20 (the cap: no
    // eviction), each batch left idle until it expires.
    clock.advance(IDLE_MS + 1);
    await gateway.server.sessions.sweep();
    for (let made = 0; made < 330; made += CAP) {
      await inParallel(Math.min(CAP, 330 - made), 4, async () => void (await session()));
      clock.advance(IDLE_MS + 1);
      await gateway.server.sessions.sweep();
    }

    expect(pids.size).toBe(1000);
    await expect.poll(() => [...pids].filter(isAlive).length, { timeout: 20_000 }).toBe(0);
    // Only the spare pool is left, nothing else.
    expect(fixtureChildren().filter((pid) => pids.has(pid))).toEqual([]);
    expect(fixtureChildren()).toHaveLength(SPARES);

    // The audit trail: 1,000 created, 1,000 ended, each with its reason.
    const reasons: Record<string, number> = {};
    for (const event of events) if (event.event === 'session.ended') reasons[event.reason] = (reasons[event.reason] ?? 0) + 1;
    expect(reasons).toEqual({ delete: 340, cap: 330 - CAP, idle: 330 + CAP });
    expect(events.filter((event) => event.event === 'session.created')).toHaveLength(1000);
    expect(endedIds.size).toBe(1000);
    expect(await gateway.server.sessions.count()).toBe(0);
    await gateway.close();
    gateway = undefined;
    expect(fixtureChildren()).toEqual([]);
  },
);
