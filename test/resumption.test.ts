/**
 * Resumable streams (issue 20, docs/RESUMPTION.md) over real sockets and processes: a call's
 * connection is cut by a TCP proxy after its first progress event, and the client resumes
 * with GET + Last-Event-ID: on the same process, on another replica of a real Redis, after a
 * kill -9 on SQLite. What was seen is never repeated; what was missed arrives once.
 */
import { startOtlpReceiver } from './helpers/otlp-receiver.js';
import Database from 'better-sqlite3';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ProgressNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { SessionClient } from '../src/client/index.js';
import { startCli, startDemo, type DemoProcess } from './helpers/demo-process.js';
import { startGateway } from './helpers/in-process-gateway.js';
import { startProcess } from './helpers/processes.js';
import { startEverythingHttp } from './helpers/everything.js';
import { openGetStream, openSession, send, toolCall } from './helpers/mcp-http.js';
import { fixtureServer } from './helpers/sdk-fixtures.js';
import { startServer } from './helpers/test-server.js';
import { bindMcpServer } from '../src/server/sdk/sdk-binding.js';
import { MemoryStore } from '../src/store/memory/index.js';
import { freePort, startRedis } from './helpers/redis.js';
import { rawEvents, type RawEvent, startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

const VERSION = '2025-11-25';
const dir = mkdtempSync(join(tmpdir(), 'sg-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const running: { kill(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const thing of running.splice(0).reverse()) await thing.kill();
});

async function demo(args: string[] = []): Promise<DemoProcess> {
  const started = await startDemo(args);
  running.push({ kill: () => started.kill('SIGKILL') });
  return started;
}

async function proxy(target: string): Promise<TcpProxy> {
  const started = await startTcpProxy(target);
  running.push({ kill: () => started.close() });
  return started;
}

function headers(session: string): Record<string, string> {
  return { 'mcp-session-id': session, 'mcp-protocol-version': VERSION };
}

interface Message {
  id?: number;
  method?: string;
  params?: { progress?: number };
  result?: { content: { text: string }[] };
  error?: { code: number; data?: { code?: string } };
}

const messageOf = (event: RawEvent): Message => JSON.parse(event.data) as Message;

/**
 * Opens an SSE answer over a raw socket (so the proxy can cut it) and resolves with its complete
 * events once `enough` says so; rejects if the stream ends first.
 */
function readUntil(
  url: string,
  options: http.RequestOptions & { body?: string },
  enough: (events: RawEvent[]) => boolean,
): Promise<RawEvent[]> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, options);
    request.on('error', () => {});
    request.on('response', (response) => {
      let text = '';
      response.on('error', () => {});
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const complete = rawEvents(text.slice(0, text.lastIndexOf('\n\n') + 2));
        if (enough(complete)) resolve(complete);
      });
      response.on('end', () => reject(new Error(`the stream ended first: ${text}`)));
    });
    request.end(options.body);
  });
}

/**
 * POSTs a call (by default `slow`, progress steps over `ms`) through the proxy and cuts every
 * connection once `progress` progress events are in: the events the client saw.
 */
async function callAndCut(
  through: TcpProxy,
  session: string,
  ms: number,
  params: Record<string, unknown> = { name: 'slow', arguments: { ms }, _meta: { progressToken: 'p' } },
  progress = 1,
): Promise<RawEvent[]> {
  const seen = await readUntil(
    through.url,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers(session) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params }),
    },
    (events) => progressOf(events).length >= progress,
  );
  through.cut();
  return seen;
}

async function resume(url: string, session: string, lastEventId: string): Promise<{ status: number; events: RawEvent[] }> {
  const answer = await fetch(url, { headers: { accept: 'text/event-stream', 'last-event-id': lastEventId, ...headers(session) } });
  return { status: answer.status, events: rawEvents(await answer.text()) };
}

const progressOf = (events: RawEvent[]): number[] =>
  events
    .filter((e) => e.data !== '')
    .map(messageOf)
    .filter((m) => m.method === 'notifications/progress')
    .map((m) => m.params!.progress!);

/** The demo's `slow`: 5 steps; the fixtures' (behind the gateway): 3. */
const DEMO = { steps: [1, 2, 3, 4, 5], text: 'waited 600 ms' };
const FIXTURE = { steps: [1, 2, 3], text: 'slow done' };

function expectExactlyOnce(seen: RawEvent[], resumed: RawEvent[], expected = DEMO): void {
  const seenIds = new Set(seen.map((e) => e.id));
  for (const event of resumed) expect(seenIds.has(event.id)).toBe(false);
  expect([...progressOf(seen), ...progressOf(resumed)]).toEqual(expected.steps);
  const last = messageOf(resumed.at(-1)!);
  expect(last.id).toBe(2);
  expect(last.result!.content[0]!.text).toBe(expected.text);
}

it('a cut call resumes on the same process: the rest of its progress and its result, once; the stream was primed', async () => {
  const server = await demo();
  const through = await proxy(server.url);
  const session = await openSession(server.url, VERSION);
  const seen = await callAndCut(through, session, 600);
  // S11 (2025-11-25): the first event is an id with no data, and a retry.
  expect(seen[0]).toMatchObject({ data: '', retry: 1000 });
  expect(seen[0]!.id).toMatch(/^c[\w-]{22}\.0$/);
  const { status, events } = await resume(server.url, session, seen.at(-1)!.id!);
  expect(status).toBe(200);
  expectExactlyOnce(seen, events);
});

it("another session presenting the id gets nothing of that stream; a session's end deletes its streams", async () => {
  const file = join(dir, 'ended.db');
  const server = await demo(['--store', `sqlite:${file}`]);
  const through = await proxy(server.url);
  const session = await openSession(server.url, VERSION);
  const seen = await callAndCut(through, session, 600);
  const other = await openSession(server.url, VERSION);
  const stolen = await resume(server.url, other, seen.at(-1)!.id!);
  expect(stolen).toEqual({ status: 200, events: [] });
  // The call finishes (disconnect is not cancellation); then the session ends.
  await expect
    .poll(async () => (await resume(server.url, session, seen.at(-1)!.id!)).events.length, { timeout: 10_000 })
    .toBeGreaterThan(0);
  const db = new Database(file, { readonly: true });
  const kept = (): number => (db.prepare('SELECT count(*) AS n FROM stream_events WHERE session_id = ?').get(session) as { n: number }).n;
  expect(kept()).toBeGreaterThan(0);
  expect((await send(server.url, { method: 'DELETE', headers: headers(session) })).status).toBe(204);
  await expect.poll(kept, { timeout: 5000 }).toBe(0);
  db.close();
});

it('notifications/cancelled ends a call whose client left: a resumption ends without a result', async () => {
  const server = await demo();
  const through = await proxy(server.url);
  const session = await openSession(server.url, VERSION);
  const seen = await callAndCut(through, session, 20_000);
  const cancelled = await send(server.url, {
    body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2, reason: 'user' } },
    headers: headers(session),
  });
  expect(cancelled.status).toBe(202);
  // The stream ends (no hang) with no result: at most the binding's own -32800 for the call.
  const { events } = await resume(server.url, session, seen.at(-1)!.id!);
  expect(events.map(messageOf).filter((m) => m.result !== undefined)).toEqual([]);
  expect(progressOf(events).length).toBeLessThan(4);
});

it('a call cut on replica A resumes on replica B of a real Redis, live until its result', async () => {
  const redis = await startRedis();
  running.push({ kill: () => redis.stop() });
  const a = await demo(['--store', redis.url]);
  const b = await demo(['--store', redis.url]);
  const throughA = await proxy(a.url);
  const session = await openSession(a.url, VERSION);
  const seen = await callAndCut(throughA, session, 600);
  const { status, events } = await resume(b.url, session, seen.at(-1)!.id!);
  expect(status).toBe(200);
  expectExactlyOnce(seen, events);
});

it('kill -9 on SQLite mid-call, restart: the resumed stream gives what was logged, then a clear error for the lost call', async () => {
  const port = String(await freePort());
  const store = `sqlite:${join(dir, 'killed.db')}`;
  const first = await demo(['--port', port, '--store', store]);
  const through = await proxy(first.url);
  const session = await openSession(first.url, VERSION);
  const seen = await callAndCut(through, session, 20_000);
  // Killed once the first event is logged (events are written a moment after they are sent).
  const db = new Database(join(dir, 'killed.db'), { readonly: true });
  const logged = (): number => (db.prepare('SELECT count(*) AS n FROM stream_events WHERE session_id = ?').get(session) as { n: number }).n;
  await expect.poll(logged, { timeout: 5000 }).toBe(1);
  db.close();
  expect(await first.kill('SIGKILL')).toBeNull();
  const second = await demo(['--port', port, '--store', store]);
  const { status, events } = await resume(second.url, session, seen.at(0)!.id!);
  expect(status).toBe(200);
  const messages = events.map(messageOf);
  expect(messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params!.progress)).toEqual([1]);
  expect(messages.at(-1)).toMatchObject({ id: 2, error: { code: -32603, data: { code: 'SG_REQUEST_LOST' } } });
});

describe('kill -9 on the gateway (SQLite) mid-call, an HTTP upstream with an event store; restarted, the gateway picks the call up', () => {
  /**
   * Cuts a gateway call after its first progress events (`progress`; the fixture's `slow` by
   * default), waits until they are logged with the upstream's event id, kills the gateway.
   */
  async function killedMidCall(
    upstreamUrl: string,
    file: string,
    call: { extra?: string[]; params?: Record<string, unknown>; progress?: number } = {},
  ) {
    const args = [
      ...['--port', String(await freePort()), '--store', `sqlite:${file}`],
      ...['--upstream', upstreamUrl, '--upstream-era', 'handshake', ...(call.extra ?? [])],
    ];
    const first = await startCli(args);
    running.push({ kill: () => first.kill('SIGKILL') });
    const through = await proxy(first.url);
    const session = await openSession(first.url, VERSION);
    const progress = call.progress ?? 1;
    const seen = await callAndCut(through, session, 1500, call.params, progress);
    const db = new Database(file, { readonly: true });
    const cursor = (): unknown =>
      db.prepare('SELECT cursor FROM stream_heads WHERE session_id = ? AND last_seq >= ? AND cursor IS NOT NULL').get(session, progress);
    await expect.poll(cursor, { timeout: 5000 }).toBeTruthy();
    db.close();
    expect(await first.kill('SIGKILL')).toBeNull();
    return { args, session, seen };
  }

  async function restarted(args: string[], env: Record<string, string> = {}): Promise<DemoProcess> {
    const gateway = await startCli(args, env);
    running.push({ kill: () => gateway.kill('SIGKILL') });
    return gateway;
  }

  it('the upstream finished the call meanwhile: the client gets the rest and the result, once', async () => {
    const upstreamLog = join(dir, 'adopted-upstream.jsonl');
    writeFileSync(upstreamLog, '');
    const upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--event-store', '--log', upstreamLog]);
    running.push({ kill: () => upstream.kill() });
    const { args, session, seen } = await killedMidCall(upstream.url, join(dir, 'gateway-killed.db'));
    await expect.poll(() => readFileSync(upstreamLog, 'utf8'), { timeout: 10_000 }).toContain('"slowDone":1500');
    const audit = join(dir, 'adopted-audit.jsonl');
    // Traced: the adopted call is a span of its own, and its audit line names that trace (docs/OBSERVABILITY.md).
    const receiver = await startOtlpReceiver();
    running.push({ kill: () => receiver.close() });
    const gateway = await restarted([...args, '--audit', audit, '--otel', receiver.url], {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const { status, events } = await resume(gateway.url, session, seen.at(-1)!.id!);
    expect(status).toBe(200);
    expectExactlyOnce(seen, events, FIXTURE);
    const resumed = (await receiver.until((spans) => spans.some((span) => span.name === 'resume'))).find((span) => span.name === 'resume')!;
    expect(resumed).toMatchObject({ kind: 2, attributes: { 'jsonrpc.request.id': '2' } });
    // The call the dead gateway began reached the upstream through this one: it leaves a line (issue 34).
    const adopted = () =>
      readFileSync(audit, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line['event'] === 'request.adopted');
    await expect
      .poll(adopted, { timeout: 5000 })
      .toMatchObject([{ requestId: 2, outcome: 'result', code: null, traceId: resumed.traceId }]);
  });

  it('server-everything, whose resumed stream replays and then goes quiet while its call runs on: SG_REQUEST_LOST at the request deadline, never a hang', async () => {
    const upstream = await startEverythingHttp();
    running.push({ kill: () => upstream.kill() });
    const { args, session, seen } = await killedMidCall(upstream.url, join(dir, 'gateway-killed-everything.db'), {
      extra: ['--request-timeout', '3s'],
      // Long enough that it cannot finish before a restart under load (a finished call's result would be replayed).
      params: { name: 'trigger-long-running-operation', arguments: { duration: 40, steps: 40 }, _meta: { progressToken: 'p' } },
      progress: 2,
    });
    const gateway = await restarted(args);
    // The rest of the progress the upstream replayed, then, 3 s after its last message, the end.
    const { status, events } = await resume(gateway.url, session, seen.at(-1)!.id!);
    expect(status).toBe(200);
    expect(progressOf(events).length).toBeGreaterThan(0);
    expect(messageOf(events.at(-1)!)).toMatchObject({ id: 2, error: { code: -32603, data: { code: 'SG_REQUEST_LOST' } } });
  }, 60_000);

  it('the upstream restarted meanwhile (its session and events are gone): a clear error for the call, never a hang', async () => {
    const port = String(await freePort());
    const before = await startProcess('sdk-stateful-server.mjs', [port, '--event-store']);
    running.push({ kill: () => before.kill() });
    const { args, session, seen } = await killedMidCall(before.url, join(dir, 'gateway-killed-2.db'));
    await before.kill();
    const after = await startProcess('sdk-stateful-server.mjs', [port, '--event-store']);
    running.push({ kill: () => after.kill() });
    const gateway = await restarted(args);
    const { status, events } = await resume(gateway.url, session, seen.at(-1)!.id!);
    expect(status).toBe(200);
    expect(progressOf(events)).toEqual([]);
    expect(messageOf(events.at(-1)!)).toMatchObject({ id: 2, error: { code: -32603, data: { code: 'SG_REQUEST_LOST' } } });
  });
});

it('kill -9 on gateway A of a real Redis mid-call; the client resumes on B and C at once: one of them picks the call up (one upstream resumption), both give the rest and the result once', async () => {
  const redis = await startRedis();
  running.push({ kill: () => redis.stop() });
  const upstreamLog = join(dir, 'claimed-upstream.jsonl');
  writeFileSync(upstreamLog, '');
  const upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--event-store', '--log', upstreamLog]);
  running.push({ kill: () => upstream.kill() });
  const args = ['--port', '0', '--store', redis.url, '--upstream', upstream.url, '--upstream-era', 'handshake'];
  const [a, b, c] = await Promise.all([startCli(args), startCli(args), startCli(args)]);
  for (const gateway of [a, b, c]) running.push({ kill: () => gateway.kill('SIGKILL') });
  const through = await proxy(a.url);
  const session = await openSession(a.url, VERSION);
  const seen = await callAndCut(through, session, 1500);
  const streamId = seen.at(-1)!.id!.split('.')[0]!;
  const client = new Redis(redis.url);
  await expect.poll(() => client.hget(`sg:sh:${session}:${streamId}`, 'cursor'), { timeout: 5000 }).toBeTruthy();
  client.disconnect();
  expect(await a.kill('SIGKILL')).toBeNull();
  const [onB, onC] = await Promise.all([resume(b.url, session, seen.at(-1)!.id!), resume(c.url, session, seen.at(-1)!.id!)]);
  expectExactlyOnce(seen, onB.events, FIXTURE);
  expectExactlyOnce(seen, onC.events, FIXTURE);
  const resumptions = readFileSync(upstreamLog, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { method: string; lastEventId: string | null })
    .filter((entry) => entry.method === 'GET' && entry.lastEventId !== null);
  expect(resumptions).toHaveLength(1);
});

it('a resumption from before the oldest event kept is told of the gap (a log message), then gets what is kept', async () => {
  const file = join(dir, 'trimmed.db');
  const server = await demo(['--store', `sqlite:${file}`, '--resume-max-events', '2']);
  const through = await proxy(server.url);
  const session = await openSession(server.url, VERSION);
  const seen = await callAndCut(through, session, 600);
  const db = new Database(file, { readonly: true });
  const done = (): unknown => db.prepare('SELECT done FROM stream_heads WHERE session_id = ?').get(session);
  await expect.poll(done, { timeout: 5000 }).toEqual({ done: 1 });
  db.close();
  const { events } = await resume(server.url, session, seen.at(-1)!.id!);
  // Kept: progress 5 and the result; progress 2 to 4 were trimmed.
  const [notice, ...rest] = events.map(messageOf);
  expect(notice).toMatchObject({
    method: 'notifications/message',
    params: { level: 'warning', data: { code: 'SG_EVENTS_TRIMMED', missed: 3 } },
  });
  expect(events[0]!.id).toBeUndefined();
  expect(rest.map((m) => m.params?.progress ?? m.result!.content[0]!.text)).toEqual([5, DEMO.text]);
});

describe('through the gateway: the upstream call goes on while the client is away', () => {
  const stdioFixture = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
  it.each([
    ['an HTTP upstream built with the official SDK', 'http'],
    ['a stdio upstream (the official SDK over stdio)', 'stdio'],
  ])('%s', async (_name, kind) => {
    let upstreamArgs: string[];
    if (kind === 'http') {
      const upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort())]);
      running.push({ kill: () => upstream.kill() });
      upstreamArgs = ['--upstream', upstream.url, '--upstream-era', 'handshake'];
    } else upstreamArgs = ['--stdio', `"${process.execPath}" ${stdioFixture}`];
    const gateway = await startGateway(['--port', '0', '--store', 'memory', ...upstreamArgs]);
    running.push(gateway);
    const through = await proxy(gateway.url);
    const session = await openSession(gateway.url, VERSION);
    const seen = await callAndCut(through, session, 900);
    const { status, events } = await resume(gateway.url, session, seen.at(-1)!.id!);
    expect(status).toBe(200);
    expectExactlyOnce(seen, events, FIXTURE);
  });
});

it('the gateway resumes its own upstream call with Last-Event-ID when the upstream connection drops (the SDK server with an event store)', async () => {
  const upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--event-store']);
  running.push({ kill: () => upstream.kill() });
  const link = await proxy(upstream.url);
  const gateway = await startGateway(['--port', '0', '--store', 'memory', '--upstream', link.url, '--upstream-era', 'handshake']);
  running.push(gateway);
  const session = await openSession(gateway.url, VERSION);
  const params = { name: 'slow', arguments: { ms: 900 }, _meta: { progressToken: 'p' } };
  const answer = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers(session) },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params }),
  });
  const reader = answer.body!.getReader();
  let text = '';
  for (let cut = false; ;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
    if (!cut && progressOf(rawEvents(text.slice(0, text.lastIndexOf('\n\n') + 2))).length === 1) {
      link.cut(); // the gateway's connection to the upstream, not the client's
      cut = true;
    }
  }
  const events = rawEvents(text);
  expect(progressOf(events)).toEqual([1, 2, 3]);
  expect(messageOf(events.at(-1)!).result!.content[0]!.text).toBe('slow done');
});

it("the gateway's upstream GET stream: a notification the upstream sent while the gateway's connection to it was down is replayed (Last-Event-ID)", async () => {
  const upstreamLog = join(dir, 'listening-upstream.jsonl');
  writeFileSync(upstreamLog, '');
  const upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort()), '--event-store', '--log', upstreamLog]);
  running.push({ kill: () => upstream.kill() });
  const link = await proxy(upstream.url);
  const gateway = await startGateway(['--port', '0', '--store', 'memory', '--upstream', link.url, '--upstream-era', 'handshake']);
  running.push(gateway);
  const session = await openSession(gateway.url, VERSION);
  const logged = (): { method: string; lastEventId: string | null; announced?: number }[] =>
    readFileSync(upstreamLog, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { method: string; lastEventId: string | null });
  const stream = await openGetStream(gateway.url, headers(session));
  await expect.poll(() => logged().some((entry) => entry.method === 'GET'), { timeout: 5000 }).toBe(true);
  // A first notification, live: the gateway now has an event id of the upstream's GET stream.
  await send(gateway.url, { body: toolCall('announce-later', { ms: 100 }), headers: headers(session) });
  const changed = { jsonrpc: '2.0', method: 'notifications/tools/list_changed' };
  expect(await stream.next(5000)).toEqual(changed);
  // The second is sent 2 s after its call, while the gateway's connection to the upstream is
  // down and refused (the proxy points at a closed port, found before: under load, finding it
  // once took longer than the 300 ms this test first waited, and the notification went live).
  const closed = `http://127.0.0.1:${await freePort()}/mcp`;
  await send(gateway.url, { body: toolCall('announce-later', { ms: 2000 }), headers: headers(session) });
  link.retarget(closed);
  link.cut();
  await expect.poll(() => logged().filter((entry) => entry.announced !== undefined).length, { timeout: 10_000 }).toBe(2);
  link.retarget(upstream.url);
  expect(await stream.next(20_000)).toEqual(changed);
  expect(logged().filter((entry) => entry.method === 'GET' && entry.lastEventId !== null).length).toBeGreaterThan(0);
  stream.close();
});

describe('clients resume by themselves', () => {
  it('SessionClient: a call cut after its first progress resumes on another replica of a real Redis', async () => {
    const redis = await startRedis();
    running.push({ kill: () => redis.stop() });
    const a = await demo(['--store', redis.url]);
    const b = await demo(['--store', redis.url]);
    const balancer = await proxy(a.url);
    const progress: number[] = [];
    const client = new SessionClient(balancer.url, {
      onMessage: (message) => {
        if (!('method' in message) || message.method !== 'notifications/progress') return;
        progress.push(message.params!['progress'] as number);
        if (progress.length === 1) {
          balancer.retarget(b.url);
          balancer.cut();
        }
      },
    });
    running.push({ kill: () => client.close() });
    await client.connect({ clientInfo: { name: 'resume', version: '1' } });
    const result = await client.request('tools/call', { name: 'slow', arguments: { ms: 600 }, _meta: { progressToken: 'p' } });
    expect(result).toEqual({ content: [{ type: 'text', text: 'waited 600 ms' }] });
    expect(progress).toEqual([1, 2, 3, 4, 5]);
  });

  it.each([
    ['our server (the SDK binding)', 'demo'],
    ['the gateway', 'gateway'],
  ])('the official SDK client: resumptionToken after a cut, from a new client, against %s', async (_name, kind) => {
    const target = kind === 'demo' ? await demo() : await startGateway(['--port', '0', '--store', 'memory', '--demo-upstream']);
    if (kind === 'gateway') running.push(target);
    const through = await proxy(target.url);
    const first = new StreamableHTTPClientTransport(new URL(through.url), { reconnectionOptions: NO_RECONNECT });
    const client = new Client({ name: 'sdk-resume', version: '1.0.0' });
    await client.connect(first);
    let token: string | undefined;
    const seen: number[] = [];
    const call = { method: 'tools/call' as const, params: { name: 'slow', arguments: { ms: 900 } } };
    client
      .request(call, CallToolResultSchema, {
        onprogress: (p) => {
          seen.push(p.progress);
          through.cut();
        },
        onresumptiontoken: (t) => (token = t),
        timeout: 30_000,
      })
      .catch(() => {});
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(token).toBeDefined();
    // A new client of the same session picks the call up where the first stopped.
    const second = new StreamableHTTPClientTransport(new URL(target.url), { sessionId: first.sessionId });
    const again = new Client({ name: 'sdk-resume-2', version: '1.0.0' });
    await again.connect(second);
    // The replayed progress carries the first request's token, which this Client never issued:
    // collected here rather than by onprogress.
    const rest: number[] = [];
    again.setNotificationHandler(ProgressNotificationSchema, (note) => void rest.push(note.params.progress));
    const result = await again.request(call, CallToolResultSchema, { resumptionToken: token });
    expect(result.content).toEqual([{ type: 'text', text: 'waited 900 ms' }]);
    expect([...seen, ...rest]).toEqual([1, 2, 3, 4, 5]);
    await client.close();
    await again.close();
  });
});

const NO_RECONNECT = { maxRetries: 0, initialReconnectionDelay: 1, maxReconnectionDelay: 1, reconnectionDelayGrowFactor: 1 };

it("the GET stream: a list_changed sent while its connection was cut reaches the client's resumed GET stream", async () => {
  const store = new MemoryStore();
  const started = await startServer({ application: bindMcpServer((bound) => fixtureServer(bound)), store });
  running.push({ kill: () => started.close() });
  const through = await proxy(started.url);
  const session = await openSession(started.url, VERSION);
  // The GET stream through the proxy: its priming event names it; then the cut.
  const [primed] = await readUntil(
    through.url,
    { headers: { accept: 'text/event-stream', ...headers(session) } },
    (events) => events.length > 0,
  );
  through.cut();
  expect(primed!.id).toMatch(/^l[\w-]{22}\.0$/);
  const grown = await send(started.url, { body: toolCall('grow', {}), headers: headers(session) });
  expect(grown.status).toBe(200);
  // The list_changed went somewhere: into the cut stream's log, or waiting for the next GET stream.
  const streamId = primed!.id!.split('.')[0]!;
  await expect
    .poll(
      async () =>
        started.server.sessions.undelivered + ((await store.streamLog.read(session, streamId, 0, 10, Date.now()))?.events.length ?? 0),
    )
    .toBeGreaterThan(0);
  const resumed = await openGetStream(started.url, { ...headers(session), 'last-event-id': primed!.id! });
  expect(resumed.status).toBe(200);
  expect(await resumed.next(5000)).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
  resumed.close();
});
