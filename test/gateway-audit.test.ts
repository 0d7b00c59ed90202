/**
 * The audit trail: every request and every session creation and end leaves one JSON line,
 * with the session's tag (never its id), the principal hash, the correlation id, the method
 * and name, the outcome and the duration; lines are flushed on close.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { EmptyResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SessionClientTransport } from '../src/client/index.js';
import { AuditLog } from '../src/gateway/audit-log/audit-log.js';
import { audited } from '../src/gateway/ops/audit.js';
import { sessionEnded } from '../src/gateway/audit-events.js';
import { httpUpstream } from '../src/gateway/upstreams/http/http-upstream.js';
import { bindMcpServer } from '../src/server/sdk/sdk-binding.js';
import { sessionTag } from '../src/session/id.js';
import { readJsonLines } from './helpers/json-lines.js';
import { ManualClock } from './helpers/clock.js';
import { fixtureServer } from './helpers/sdk-fixtures.js';
import { startServer } from './helpers/test-server.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('one line per request and per session created or ended, flushed on close', async () => {
  const upstream = await startServer({ application: bindMcpServer((session) => fixtureServer(session)) });
  const path = join(dir, 'nested', 'audit.jsonl');
  const log = new AuditLog(path);
  const clock = new ManualClock();
  const gateway = await startServer({
    application: audited(httpUpstream({ url: upstream.url }), log),
    authenticate: (request) => request.header('authorization'),
    clock,
    idleTimeoutMs: 60_000,
  });
  gateway.server.sessions.onEnd((record, reason) => log.write(sessionEnded(record, reason)));

  const transport = new SessionClientTransport(gateway.url, {
    headers: { authorization: 'Bearer alice' },
    clientSessionId: '9b2e4f1a-3c5d-4e6f-8a7b-1c2d3e4f5a6b',
  });
  const client = new Client({ name: 'audited', version: '1' });
  await client.connect(transport);
  const id = transport.sessionId!;
  await client.callTool({ name: 'echo', arguments: { text: 'x' } });
  await client.callTool({ name: 'progress' }, undefined, { onprogress: () => {} });
  await client.callTool({ name: 'nope' }).catch(() => {});
  await client.request({ method: 'no/such/method' }, EmptyResultSchema).catch(() => {});
  await client.close(); // DELETE: the session ends with reason "delete"

  const idle = new Client({ name: 'idle', version: '1' });
  const idleTransport = new SessionClientTransport(gateway.url, { recover: false });
  await idle.connect(idleTransport);
  const idleTag = sessionTag(idleTransport.sessionId!);
  clock.advance(61_000);
  await gateway.server.sessions.sweep();

  await gateway.close();
  await upstream.close();
  await log.close();
  const events = readJsonLines(path);
  const tag = sessionTag(id);
  expect(readFileSync(path, 'utf8')).not.toContain(id);
  expect(readFileSync(path, 'utf8')).not.toContain('alice');
  const mine = events.filter((e) => e['session'] === tag);
  expect(
    mine.map((e) =>
      e['event'] === 'request'
        ? `${String(e['method'])}:${String(e['name'])}:${String(e['outcome'])}`
        : `${String(e['event'])}:${String(e['reason'] ?? '')}`,
    ),
  ).toEqual([
    'initialize:null:result',
    'session.created:',
    'tools/call:echo:result',
    'tools/call:progress:result',
    'tools/call:nope:tool-error',
    'no/such/method:null:error',
    'session.ended:delete',
  ]);
  for (const event of mine) {
    expect(event['principal']).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(event['clientSessionId']).toBe('9b2e4f1a-3c5d-4e6f-8a7b-1c2d3e4f5a6b');
    expect(typeof event['time']).toBe('string');
  }
  expect(mine.find((e) => e['method'] === 'no/such/method')).toMatchObject({ code: -32601 });
  expect(mine.every((e) => e['event'] !== 'request' || typeof e['durationMs'] === 'number')).toBe(true);
  expect(events.filter((e) => e['session'] === idleTag).map((e) => e['event'])).toEqual(['request', 'session.created', 'session.ended']);
  expect(events.find((e) => e['session'] === idleTag && e['event'] === 'session.ended')).toMatchObject({ reason: 'idle' });
});
