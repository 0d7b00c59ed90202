/**
 * The Redis store, its bus and the gateway on a real Redis Cluster (three masters) and behind a
 * real Sentinel (issue "replicas": the Cluster and Sentinel forms, through ioredis's own support).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseStoreSpec } from '../src/cli/store-spec.js';
import { RedisStore } from '../src/store/redis/index.js';
import { parseRedisTarget } from '../src/store/redis/target.js';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { openGetStream, openSession, send, toolCall } from './helpers/mcp-http.js';
import { isAlive } from './helpers/processes.js';
import { PATIENT, startRedisCluster, startRedisSentinel } from './helpers/redis.js';
import { record, storeContract } from './helpers/store-contract.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
const HEADERS = { 'mcp-protocol-version': '2025-11-25' };
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function gateways(count: number, store: string): Promise<DemoProcess[]> {
  const started = await Promise.all(
    Array.from({ length: count }, () =>
      startCli(['--port', '0', '--store', store, '--spares', '0', '--stdio', `${process.execPath} ${FIXTURE}`]),
    ),
  );
  for (const gateway of started) closers.push(() => gateway.kill('SIGKILL'));
  return started;
}

function text(json: unknown): string {
  const answer = json as { result?: { content: { text: string }[] } };
  if (!answer.result) throw new Error(`expected a result: ${JSON.stringify(json)}`);
  return answer.result.content[0]!.text;
}

describe('the Redis URL forms', () => {
  it('parses one server, a cluster and a sentinel set, and refuses what is none of them with a reason', () => {
    expect(parseRedisTarget('redis://:pw@h:1/2')).toEqual({ kind: 'server', url: 'redis://:pw@h:1/2' });
    expect(parseRedisTarget('redis-cluster://u:p%40ss@a:7000,[::1]:7001,b')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: 'a', port: 7000 },
        { host: '::1', port: 7001 },
        { host: 'b', port: 6379 },
      ],
      username: 'u',
      password: 'p@ss',
    });
    expect(parseRedisTarget('redis-sentinel://s1,s2:5000/my%20master')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 5000 },
      ],
      name: 'my master',
    });
    expect(() => parseRedisTarget('redis-sentinel://s1:26379')).toThrow(/master name/);
    expect(() => parseRedisTarget('redis-cluster://a:7000/0')).toThrow(/no path/);
    expect(() => parseRedisTarget('redis-cluster://a:99999')).toThrow(/host:port/);
    expect(() => parseStoreSpec('redis-cluster://')).toThrow(/invalid store/);
    expect(() => new RedisStore({ url: 'redis-cluster://127.0.0.1:1', prefix: 'sg:' })).toThrow(/hash tag/);
  });
});

describe('on a Redis Cluster (three masters)', () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  let n = 0;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  // Every test gets its own hash tag, so its keys live on one slot of their own.
  storeContract('redis cluster', async () => {
    const store = new RedisStore({ ...PATIENT, url: cluster.url, prefix: `{c${n++}}:` });
    await store.ready();
    return store;
  });

  it('two stores share sessions, and the bus counts listeners truly (sharded pub/sub)', async () => {
    const [a, b] = [new RedisStore({ ...PATIENT, url: cluster.url }), new RedisStore({ ...PATIENT, url: cluster.url })];
    closers.push(
      () => a.close(),
      () => b.close(),
    );
    const now = Date.now();
    const r = record(now);
    await a.sessions.create(r, { maxSessions: Infinity, maxSessionsPerPrincipal: Infinity, maxAnonymousSessions: Infinity }, now);
    expect(await b.sessions.get(r.id, now)).toEqual(r);
    const heard: unknown[] = [];
    b.bus.listen('holder', r.id, (payload) => heard.push(payload));
    await expect.poll(() => a.bus.send('holder', r.id, { n: 1 })).toBe(1);
    expect(await a.bus.send('holder', 'x'.repeat(32), { n: 2 })).toBe(0);
    await expect.poll(() => heard.length).toBeGreaterThan(0);
    expect(heard[0]).toEqual({ n: 1 });
  });

  it('gateway replicas: a stdio session moves from A to B, the GET stream on A hears the child on B, DELETE on A stops it', async () => {
    const [a, b] = await gateways(2, cluster.url);
    const id = await openSession(a!.url);
    const headers = { ...HEADERS, 'mcp-session-id': id };
    const call = async (gateway: DemoProcess, tool: string, args: Record<string, unknown> = {}) =>
      text((await send(gateway.url, { body: toolCall(tool, args), headers })).json);
    const onA = Number(await call(a!, 'whoami'));
    const onB = Number(await call(b!, 'whoami'));
    expect(onB).not.toBe(onA);
    await expect.poll(() => isAlive(onA)).toBe(false);
    const stream = await openGetStream(a!.url, headers);
    expect(await call(b!, 'later', { what: 'grow' })).toBe('scheduled');
    expect(await stream.next()).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect((await send(a!.url, { method: 'DELETE', headers })).status).toBe(204);
    await expect.poll(() => isAlive(onB)).toBe(false);
    await stream.ended;
  });
});

describe('behind a Redis Sentinel', () => {
  it('the gateway finds the master through the Sentinel and keeps its sessions across a failover', async () => {
    const sentinel = await startRedisSentinel();
    closers.push(() => sentinel.stop());
    const [gateway] = await gateways(1, sentinel.url);
    const id = await openSession(gateway!.url);
    const headers = { ...HEADERS, 'mcp-session-id': id };
    const echo = async (n: number) => (await send(gateway!.url, { body: toolCall('echo', { text: `${n}` }, n), headers })).status;
    expect(await echo(1)).toBe(200);
    // The replica becomes the master; the client follows the Sentinel to it. Meanwhile calls
    // may get 503 (never another error), then the same session is served again.
    expect(sentinel.masterPort()).toBe(sentinel.ports.master);
    sentinel.failover();
    await expect.poll(() => sentinel.masterPort(), { timeout: 10_000 }).toBe(sentinel.ports.replica);
    const statuses: number[] = [];
    const deadline = Date.now() + 20_000;
    for (let n = 2; Date.now() < deadline; n++) {
      statuses.push(await echo(n));
      if (statuses.length > 5 && statuses.slice(-5).every((status) => status === 200)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    expect(statuses.slice(-5)).toEqual([200, 200, 200, 200, 200]);
    // Writes reach the new master (the old one is a read-only replica now).
    const fresh = await openSession(gateway!.url);
    expect(
      (await send(gateway!.url, { body: toolCall('echo', { text: 'new' }), headers: { ...HEADERS, 'mcp-session-id': fresh } })).status,
    ).toBe(200);
    expect((await send(gateway!.url, { method: 'DELETE', headers })).status).toBe(204);
  }, 60_000);
});
