/**
 * Several gateway processes sharing one real redis-server (issue "replicas"): any replica
 * serves any session; a session's stdio child lives on one replica at a time and moves with
 * it; DELETE and expiry on any replica reach the replica holding the child (pub/sub), checked
 * in the process table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { bindMcpServer } from '../src/server/sdk/sdk-binding.js';
import { SessionManager } from '../src/session/session-manager.js';
import { CachingStore } from '../src/store/caching-store.js';
import { RedisStore } from '../src/store/redis/index.js';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { initializeRequest, openGetStream, openSession, postStream, send, sseMessages, toolCall } from './helpers/mcp-http.js';
import { EVERYTHING_STDIO } from './helpers/everything.js';
import { isAlive } from './helpers/processes.js';
import { PATIENT, startRedis, type RedisServer } from './helpers/redis.js';
import { fixtureServer, type Tally } from './helpers/sdk-fixtures.js';
import { startServer, type RunningServer } from './helpers/test-server.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function redis(): Promise<RedisServer> {
  const server = await startRedis();
  closers.push(() => server.stop());
  return server;
}

async function replicas(count: number, args: string[]): Promise<DemoProcess[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startCli(['--port', '0', ...args])));
  for (const replica of started) closers.push(() => replica.kill('SIGKILL'));
  return started;
}

/** The JSON-RPC response among an SSE body's messages. */
function responseOf(body: string): unknown {
  return sseMessages(body).find((message) => typeof message === 'object' && message !== null && 'id' in message && !('method' in message));
}

function text(json: unknown): string {
  const answer = json as { result?: { content: { text: string }[] }; error?: unknown };
  if (!answer.result) throw new Error(`expected a result: ${JSON.stringify(json)}`);
  return answer.result.content[0]!.text;
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/**
 * The status a replica answers for a call, asked until it is `expected` (up to a second): a
 * replica learns of an end elsewhere over pub/sub, and its record cache drops the entry when the
 * message arrives (milliseconds; README, replicas), so a request racing the message may still be
 * served.
 */
async function statusSoon(url: string, headers: Record<string, string>, expected: number): Promise<number> {
  let status = 0;
  await waitFor(async () => {
    status = (await send(url, { body: toolCall('echo', { text: 'x' }), headers })).status;
    return status === expected;
  }, 1000);
  return status;
}

describe('gateway replicas on one Redis, stdio upstream', () => {
  it('the child follows the session from replica to replica; DELETE on another replica stops it', async () => {
    const { url: store } = await redis();
    const [a, b, c] = await replicas(3, ['--store', store, '--spares', '0', '--stdio', `${process.execPath} ${FIXTURE}`]);
    const headers = (id: string) => ({ 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' });
    const id = await openSession(a!.url);
    const call = async (replica: DemoProcess, tool: string, n: number) =>
      text((await send(replica.url, { body: toolCall(tool, { text: `${n}` }, n), headers: headers(id) })).json);

    const onA = Number(await call(a!, 'whoami', 2));
    expect(await call(a!, 'echo', 3)).toBe('3');
    // Served by B: a child there with the handshake replayed; A's is stopped (ownership moved).
    const onB = Number(await call(b!, 'whoami', 4));
    expect(onB).not.toBe(onA);
    expect(await waitFor(() => !isAlive(onA))).toBe(true);
    expect(await call(b!, 'echo', 5)).toBe('5');
    // DELETE through C reaches B, which holds the child.
    expect((await send(c!.url, { method: 'DELETE', headers: headers(id) })).status).toBe(204);
    expect(await waitFor(() => !isAlive(onB))).toBe(true);
    for (const replica of [a!, b!, c!]) {
      expect(await statusSoon(replica.url, headers(id), 404)).toBe(404);
    }
  });

  it('the admin API of another replica lists the session and terminates it: the child on the holding replica stops', async () => {
    const { url: store } = await redis();
    const token = 'admin-token-replicas-0123';
    const [a, b] = await replicas(2, [
      '--store',
      store,
      '--spares',
      '0',
      '--admin-token',
      token,
      '--stdio',
      `${process.execPath} ${FIXTURE}`,
    ]);
    const id = await openSession(a!.url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    const child = Number(text((await send(a!.url, { body: toolCall('whoami', {}), headers })).json));
    const admin = `${b!.url.replace(/\/mcp$/, '/admin/sessions')}/${id}`;
    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(admin, { headers: auth })).status).toBe(200);
    expect((await fetch(admin, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect(await waitFor(() => !isAlive(child))).toBe(true);
    expect(await statusSoon(a!.url, headers, 404)).toBe(404);
  });

  it('a session expired and swept by one replica has its child stopped on the replica holding it', async () => {
    const { url: store } = await redis();
    const [a, b] = await replicas(2, [
      '--store',
      store,
      '--spares',
      '0',
      '--idle-timeout',
      '1s',
      '--stdio',
      `${process.execPath} ${FIXTURE}`,
    ]);
    const id = await openSession(b!.url);
    const answer = await send(b!.url, {
      body: toolCall('whoami', {}),
      headers: { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
    });
    const child = Number(text(answer.json));
    expect(isAlive(child)).toBe(true);
    // Whichever replica's sweeper gets there first, the child on B is stopped.
    expect(await waitFor(() => !isAlive(child), 8000)).toBe(true);
    expect(a!.child.exitCode).toBeNull();
  });
});

describe('gateway replicas on one Redis, HTTP upstream', () => {
  it('a session created through A is used through B and C in turn with no error; DELETE on B ends it upstream', async () => {
    const { url: store } = await redis();
    const tally: Tally = { created: 0, closed: 0 };
    const upstream: RunningServer = await startServer({ application: bindMcpServer((session) => fixtureServer(session, tally)) });
    closers.push(() => upstream.close());
    const [a, b, c] = await replicas(3, ['--store', store, '--upstream', upstream.url]);
    const id = await openSession(a!.url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    await send(a!.url, { body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers });
    const counts: string[] = [];
    for (const [n, replica] of [a, b, c, a, b, c].entries()) {
      counts.push(text((await send(replica!.url, { body: toolCall('count', {}, n + 10), headers })).json));
    }
    // One upstream session throughout: its state counted every call, wherever it landed.
    expect(counts).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(tally.created).toBe(1);
    expect((await send(b!.url, { method: 'DELETE', headers })).status).toBe(204);
    expect(await waitFor(() => tally.closed === 1)).toBe(true);
    expect(await statusSoon(c!.url, headers, 404)).toBe(404);
  });
});

describe('GET streams and server-to-client messages across replicas (pub/sub per session)', () => {
  const LIST_CHANGED = { jsonrpc: '2.0', method: 'notifications/tools/list_changed' };

  /** initialize (declaring `capabilities`) and initialized, through `url`; the session's headers. */
  async function openWith(url: string, capabilities: Record<string, unknown>): Promise<Record<string, string>> {
    const init = initializeRequest();
    (init['params'] as { capabilities: unknown }).capabilities = capabilities;
    const answer = await send(url, { body: init });
    const headers = { 'mcp-session-id': answer.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
    expect((await send(url, { body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers })).status).toBe(202);
    return headers;
  }

  it('stdio: the child on B reaches the GET stream on A; its request answered through C reaches it; a GET on C takes over', async () => {
    const { url: store } = await redis();
    const [a, b, c] = await replicas(3, ['--store', store, '--spares', '0', '--stdio', `${process.execPath} ${FIXTURE}`]);
    const headers = await openWith(b!.url, { roots: {} });
    const call = async (replica: DemoProcess, tool: string, args: Record<string, unknown> = {}) =>
      text((await send(replica.url, { body: toolCall(tool, args), headers })).json);
    const child = Number(await call(b!, 'whoami'));

    const onA = await openGetStream(a!.url, headers);
    expect(onA.status).toBe(200);
    // A change of the tool list, sent by the child on B after its call answered: on A's stream.
    expect(await call(b!, 'later', { what: 'grow' })).toBe('scheduled');
    expect(await onA.next()).toEqual(LIST_CHANGED);
    // A request of the child's own: on A's stream; its answer, posted to C, reaches the child on B.
    expect(await call(b!, 'later', { what: 'roots' })).toBe('scheduled');
    const asked = (await onA.next()) as { id: number; method: string };
    expect(asked.method).toBe('roots/list');
    const answer = { jsonrpc: '2.0', id: asked.id, result: { roots: [{ uri: 'file:///answered-through-c' }] } };
    expect((await send(c!.url, { body: answer, headers })).status).toBe(202);
    expect(await waitFor(async () => (await call(b!, 'roots-seen')) === 'file:///answered-through-c')).toBe(true);
    // Neither the GET on A nor the answer through C moved the child.
    expect(Number(await call(b!, 'whoami'))).toBe(child);

    // A GET opened on C takes over: A's ends, and messages now go to C.
    const onC = await openGetStream(c!.url, headers);
    await onA.ended;
    expect(await call(b!, 'later', { what: 'grow' })).toBe('scheduled');
    expect(await onC.next()).toEqual(LIST_CHANGED);
    // DELETE through A ends the session, and so the stream on C; the child on B is stopped.
    expect((await send(a!.url, { method: 'DELETE', headers })).status).toBe(204);
    await onC.ended;
    expect(await waitFor(() => !isAlive(child))).toBe(true);
  });

  it('stdio: what the child on B sends while no GET stream is open anywhere waits, and reaches the stream A opens later', async () => {
    const { url: store } = await redis();
    const [a, b] = await replicas(2, ['--store', store, '--spares', '0', '--stdio', `${process.execPath} ${FIXTURE}`]);
    const headers = await openWith(b!.url, {});
    const waitingOnB = async (): Promise<number> => {
      const metrics = await (await fetch(b!.url.replace(/\/mcp$/, '/metrics'))).text();
      return Number(/^sessiongate_undelivered_messages (\d+)$/m.exec(metrics)?.[1]);
    };
    expect(await waitingOnB()).toBe(0);
    expect(text((await send(b!.url, { body: toolCall('later', { what: 'grow' }), headers })).json)).toBe('scheduled');
    expect(await waitFor(async () => (await waitingOnB()) === 1)).toBe(true);
    // B starts listening for a stream a moment after it kept the message: a stream opened in that
    // moment misses it, and the client's next GET gets it. Reopen until heard (bounded).
    let heard: unknown;
    for (let attempt = 0; attempt < 5 && heard === undefined; attempt++) {
      const onA = await openGetStream(a!.url, headers);
      expect(onA.status).toBe(200);
      heard = await onA.next(1000);
      onA.close();
    }
    expect(heard).toEqual(LIST_CHANGED);
    expect(await waitingOnB()).toBe(0);
  });

  it('HTTP upstream: the upstream GET stream follows the client one (B, then C after a takeover), wherever the call runs', async () => {
    const { url: store } = await redis();
    const upstream: RunningServer = await startServer({ application: bindMcpServer((session) => fixtureServer(session)) });
    closers.push(() => upstream.close());
    const [a, b, c] = await replicas(3, ['--store', store, '--upstream', upstream.url]);
    const id = await openSession(a!.url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    // The client listens on B: B opens the upstream's GET stream (a moment after the client's
    // opened), and what the upstream sends there while a call runs on C reaches the client.
    const onB = await openGetStream(b!.url, headers);
    expect(onB.status).toBe(200);
    let heard: unknown;
    for (let n = 0; n < 20 && heard === undefined; n++) {
      expect(text((await send(c!.url, { body: toolCall('grow', {}, n), headers })).json)).toBe('grown');
      heard = await onB.next(250);
    }
    expect(heard).toEqual(LIST_CHANGED);
    // One upstream GET stream for the session: the upstream refuses a second one (409), so
    // a GET that takes over on C must have B's closed first (B's client-side stream ended).
    const onC = await openGetStream(c!.url, headers);
    await onB.ended;
    heard = undefined;
    for (let n = 100; n < 120 && heard === undefined; n++) {
      expect(text((await send(a!.url, { body: toolCall('grow', {}, n), headers })).json)).toBe('grown');
      heard = await onC.next(250);
    }
    expect(heard).toEqual(LIST_CHANGED);
    expect((await send(c!.url, { method: 'DELETE', headers })).status).toBe(204);
    await onC.ended;
  });

  it('SDK binding on two servers: list_changed from B reaches the GET stream on A; a sampling answer posted to B completes the call on A', async () => {
    const { url } = await redis();
    const servers: RunningServer[] = [];
    for (let i = 0; i < 2; i++) {
      const store = new CachingStore(new RedisStore({ ...PATIENT, url, prefix: 'sdk:' }));
      const server = await startServer({ application: bindMcpServer((session) => fixtureServer(session)), store });
      closers.push(() => server.close().then(() => store.close()));
      await waitFor(() => store.bus.connected);
      servers.push(server);
    }
    const [a, b] = servers as [RunningServer, RunningServer];
    const headers = await openWith(a.url, { sampling: {} });
    const onA = await openGetStream(a.url, headers);
    // B has no instance of the session: it builds one (handshake replayed), whose list_changed goes to A.
    expect(text((await send(b.url, { body: toolCall('grow', {}), headers })).json)).toBe('grown');
    expect(await onA.next()).toEqual(LIST_CHANGED);
    // The instance on A asks during a call on A (the fixture asks with no related request: on
    // the GET stream); the answer lands on B, which holds an instance too: relayed to every
    // holder, the one that asked takes it.
    const calling = send(a.url, { body: toolCall('ask', {}, 7), headers });
    const asked = (await onA.next()) as { id: number; method: string };
    expect(asked.method).toBe('sampling/createMessage');
    const reply = { jsonrpc: '2.0', id: asked.id, result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'via B' } } };
    expect((await send(b.url, { body: reply, headers })).status).toBe(202);
    expect((await calling).json).toMatchObject({ id: 7, result: { content: [{ text: 'client said via B' }] } });
  });
});

describe('sessionless (2026-07-28) conversations across replicas, server-everything over stdio', () => {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'sessionless-test', version: '1.0.0' },
  };
  const headers = (tool: string, conversation: string) => ({
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': tool,
    'mcp-client-session-id': conversation,
  });
  const call = (tool: string, args: Record<string, unknown>, id: number | string, extra: Record<string, unknown> = {}) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: tool, arguments: args, _meta: { ...meta, ...extra } },
  });

  it('first calls of one conversation on two replicas at once both succeed: the waiting replica hears it is ready', async () => {
    const { url: store } = await redis();
    const [a, b] = await replicas(2, ['--store', store, '--spares', '0', '--stdio', EVERYTHING_STDIO]);
    const answers = await Promise.all(
      [a!, b!].map((replica, i) =>
        send(replica.url, { body: call('echo', { message: `from ${i}` }, i + 1), headers: headers('echo', 'shared-conversation') }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    // JSON, or (when the answer waited long enough to become a stream) the response in its SSE body.
    for (const [i, answer] of answers.entries()) expect(text(answer.json ?? responseOf(answer.text))).toContain(`from ${i}`);
  });

  it('a call in flight on A is answered though the conversation moves to B meanwhile (the child is let go after it)', async () => {
    const { url: store } = await redis();
    const [a, b] = await replicas(2, ['--store', store, '--spares', '0', '--stdio', EVERYTHING_STDIO]);
    const conversation = 'moving-conversation';
    expect(
      text((await send(a!.url, { body: call('echo', { message: 'hello' }, 1), headers: headers('echo', conversation) })).json),
    ).toContain('hello');
    const long = 'trigger-long-running-operation';
    const running = await postStream(a!.url, headers(long, conversation), call(long, { duration: 2, steps: 4 }, 2, { progressToken: 'p' }));
    // The call is running in A's child once its first progress arrives.
    let first = (await running.next(10_000)) as { method?: string } | undefined;
    // server-everything may announce its tool list first; the call runs once progress comes.
    while (first !== undefined && first.method !== 'notifications/progress') first = (await running.next(10_000)) as typeof first;
    expect(first).toMatchObject({ method: 'notifications/progress' });
    expect(
      text((await send(b!.url, { body: call('echo', { message: 'on B' }, 3), headers: headers('echo', conversation) })).json),
    ).toContain('on B');
    let last: unknown;
    for (let next = await running.next(10_000); next !== undefined; next = await running.next(10_000)) last = next;
    expect(last).toMatchObject({ id: 2, result: { content: [{ text: expect.stringContaining('completed') }] } });
  });
});

describe('Redis faults', () => {
  it('redis-server killed and restarted under load: 503 within a second while down, full service after, no crash, no orphan', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-redis-durable-'));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    let server = await startRedis(undefined, { durable: { dir } });
    closers.push(() => server.stop());
    const [gateway] = await replicas(1, ['--store', server.url, '--spares', '0', '--stdio', `${process.execPath} ${FIXTURE}`]);
    const id = await openSession(gateway!.url);
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    const child = Number(text((await send(gateway!.url, { body: toolCall('whoami', {}), headers })).json));

    // Load: one call after another, each timed, while Redis goes away and comes back.
    const outcomes: { status: number; ms: number; phase: string }[] = [];
    let phase = 'up';
    let loading = true;
    const load = (async () => {
      for (let n = 100; loading; n++) {
        const started = Date.now();
        const answer = await send(gateway!.url, { body: toolCall('echo', { text: `${n}` }, n), headers });
        outcomes.push({ status: answer.status, ms: Date.now() - started, phase });
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server.stop();
    phase = 'down';
    await new Promise((resolve) => setTimeout(resolve, 2500));
    server = await startRedis(server.port, { durable: { dir } });
    phase = 'back';
    await new Promise((resolve) => setTimeout(resolve, 2500));
    loading = false;
    await load;

    const down = outcomes.filter((o) => o.phase === 'down');
    expect(down.length).toBeGreaterThan(1);
    // While down: 503 (never 500, never a hang), each answered within about a second.
    expect(down.slice(1).every((o) => o.status === 503 && o.ms < 1500)).toBe(true);
    // Back: the same session is served again (the record survived in Redis).
    const back = outcomes.filter((o) => o.phase === 'back');
    expect(back.at(-1)!.status).toBe(200);
    expect(outcomes.every((o) => [200, 503].includes(o.status))).toBe(true);
    expect(gateway!.child.exitCode).toBeNull();
    expect(Number(text((await send(gateway!.url, { body: toolCall('whoami', {}), headers })).json))).toBe(child);
    expect((await send(gateway!.url, { method: 'DELETE', headers })).status).toBe(204);
    expect(await waitFor(() => !isAlive(child))).toBe(true);
  });
});

describe('the record cache of a replica', () => {
  async function twoReplicas() {
    const { url } = await redis();
    const stores = [0, 1].map(() => new CachingStore(new RedisStore({ ...PATIENT, url, prefix: 'cache:' })));
    const managers = stores.map((store) => new SessionManager({ store, sweepIntervalMs: 0 }));
    for (const [i, manager] of managers.entries()) closers.push(() => manager.close().then(() => stores[i]!.close()));
    // The bus subscriptions are up before the test relies on them.
    await waitFor(() => stores.every((store) => store.bus.connected));
    const monitor = new Redis(url);
    closers.push(async () => monitor.disconnect());
    const hgetalls = async () => Number(/cmdstat_hgetall:calls=(\d+)/.exec(await monitor.info('commandstats'))?.[1] ?? 0);
    return { stores, managers, hgetalls };
  }
  const INIT = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } };

  it('a warm session costs no Redis round trip per request; a miss costs one', async () => {
    const { managers, hgetalls } = await twoReplicas();
    const [a, b] = managers as [SessionManager, SessionManager];
    const { id } = await a.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null });
    const before = await hgetalls();
    await b.resolve(id, undefined); // a miss: one read
    expect((await hgetalls()) - before).toBe(1);
    for (let n = 0; n < 100; n++) await b.resolve(id, undefined);
    expect((await hgetalls()) - before).toBe(1); // 100 warm requests, no more reads
  });

  it('DELETE on one replica is seen by the other within 100 ms; a state change at once', async () => {
    const { managers } = await twoReplicas();
    const [a, b] = managers as [SessionManager, SessionManager];
    const { id } = await a.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null });
    await b.resolve(id, undefined); // cached on B
    await a.writeState(id, 'step', 2);
    const deadline = Date.now() + 100;
    // Each request is its own turn of the event loop, as on a server (pub/sub is I/O).
    while ((await b.resolve(id, undefined)).state['step'] !== 2) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await a.end(id, 'delete');
    const ended = Date.now();
    for (;;) {
      const gone = await b.resolve(id, undefined).then(
        () => false,
        () => true,
      );
      if (gone) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(Date.now() - ended).toBeLessThan(100);
  });

  it('a cached record that looks expired is read again: another replica may have slid it', async () => {
    const { url } = await redis();
    const stores = [0, 1].map(() => new CachingStore(new RedisStore({ ...PATIENT, url, prefix: 'slide:' })));
    const [a, b] = stores.map((store) => new SessionManager({ store, idleTimeoutMs: 1000, sweepIntervalMs: 0 })) as [
      SessionManager,
      SessionManager,
    ];
    closers.push(async () => {
      await a.close();
      await b.close();
      for (const store of stores) await store.close();
    });
    await waitFor(() => stores.every((store) => store.bus.connected));
    const { id } = await a.create({ identity: undefined, protocolVersion: '2025-11-25', initialize: INIT, clientSessionId: null });
    await b.resolve(id, undefined); // B caches an idle deadline 1 s from now
    await new Promise((resolve) => setTimeout(resolve, 700));
    await a.resolve(id, undefined); // A slides it (a touch: more than a tenth of the window passed)
    await new Promise((resolve) => setTimeout(resolve, 500)); // past B's cached deadline, not the slid one
    await expect(b.resolve(id, undefined)).resolves.toMatchObject({ id });
  });
});
