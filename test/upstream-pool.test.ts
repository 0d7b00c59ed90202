/**
 * An upstream pool (`--upstream` repeated): rendezvous hashing on the client correlation id (or
 * the session id), the pick pinned, a replica that stops answering left for another with the
 * handshake replayed and no error for the client. Real sockets, official SDK servers upstream.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { httpUpstream } from '../src/gateway/upstreams/http/http-upstream.js';
import { UpstreamPool } from '../src/gateway/upstreams/http/upstream-pool.js';
import { bindMcpServer } from '../src/server/sdk/sdk-binding.js';
import { initializeRequest, send } from './helpers/mcp-http.js';
import { fixtureServer, type Tally } from './helpers/sdk-fixtures.js';
import { startServer, type RunningServer } from './helpers/test-server.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function replicas(count: number): Promise<{ servers: RunningServer[]; tallies: Tally[] }> {
  const tallies = Array.from({ length: count }, () => ({ created: 0, closed: 0 }));
  const servers = await Promise.all(
    tallies.map((tally) => startServer({ application: bindMcpServer((session) => fixtureServer(session, tally)) })),
  );
  for (const server of servers) closers.push(() => server.close());
  return { servers, tallies };
}

async function gatewayTo(urls: string[]): Promise<RunningServer> {
  const gateway = await startServer({ application: httpUpstream({ url: urls, pool: { healthIntervalMs: 200 } }) });
  closers.push(() => gateway.close());
  return gateway;
}

describe('rendezvous hashing', () => {
  it('is stable, spreads keys, and moves only the keys of a replica that goes down', () => {
    const pool = new UpstreamPool(['http://a:1/mcp', 'http://b:1/mcp', 'http://c:1/mcp'], { healthIntervalMs: 0 });
    const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}`);
    const before = new Map(keys.map((key) => [key, pool.pick(key).href]));
    expect(keys.every((key) => pool.pick(key).href === before.get(key))).toBe(true);
    const share = (href: string) => keys.filter((key) => before.get(key) === href).length / keys.length;
    for (const url of pool.urls) expect(share(url.href)).toBeGreaterThan(0.28);
    pool.markDown(pool.urls[1]!);
    for (const key of keys) {
      const now = pool.pick(key).href;
      if (before.get(key) === pool.urls[1]!.href) expect(now).not.toBe(pool.urls[1]!.href);
      else expect(now).toBe(before.get(key));
    }
  });
});

describe('an upstream pool behind the gateway', () => {
  it('parallel first calls with one correlation id land on one replica; without one they spread', async () => {
    const { servers, tallies } = await replicas(3);
    const gateway = await gatewayTo(servers.map((server) => server.url));
    const id = '6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    const initialize = (headers: Record<string, string>, n: number) =>
      send(gateway.url, { body: initializeRequest('2025-11-25', n), headers });
    const correlated = await Promise.all(Array.from({ length: 6 }, (_, n) => initialize({ 'mcp-client-session-id': id }, n)));
    expect(correlated.every((answer) => answer.status === 200)).toBe(true);
    expect(tallies.map((tally) => tally.created).sort()).toEqual([0, 0, 6]);
    const before = tallies.map((tally) => tally.created);
    await Promise.all(Array.from({ length: 12 }, (_, n) => initialize({}, n)));
    const added = tallies.map((tally, i) => tally.created - before[i]!);
    expect(added.reduce((a, b) => a + b)).toBe(12);
    // Keyed on random session ids: all 12 on one of 3 replicas has probability 3 / 3^12.
    expect(added.filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it('a replica killed mid-session: the session continues on another, handshake replayed, no client error', async () => {
    const { servers, tallies } = await replicas(2);
    const gateway = await gatewayTo(servers.map((server) => server.url));
    const client = new Client({ name: 'pool', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
    closers.push(() => client.close());
    expect((await client.callTool({ name: 'echo', arguments: { text: 'one' } })).content).toEqual([{ type: 'text', text: 'one' }]);
    const home = tallies.findIndex((tally) => tally.created === 1);
    const other = 1 - home;
    await servers[home]!.close();
    // Right away (before any health check noticed): refused, so retried on the other replica.
    expect((await client.callTool({ name: 'echo', arguments: { text: 'two' } })).content).toEqual([{ type: 'text', text: 'two' }]);
    expect(tallies[other]!.created).toBe(1);
    for (let n = 0; n < 5; n++) await client.callTool({ name: 'echo', arguments: { text: `${n}` } });
    const who = JSON.parse(((await client.callTool({ name: 'who', arguments: {} })).content as { text: string }[])[0]!.text) as {
      client: { name: string };
    };
    expect(who.client.name).toBe('pool'); // the replayed handshake carried the client's own info
    expect(tallies[other]!.created).toBe(1);
  });
});
