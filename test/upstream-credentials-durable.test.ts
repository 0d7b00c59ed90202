/**
 * Per-person upstream credentials as deployed (docs/CREDENTIALS.md): real gateway processes on
 * SQLite (restarted, its key rotated, started with a wrong key) and two replicas on a real
 * Redis. A connection made once survives a restart and is seen by every replica; a token due
 * for renewal is renewed once though both replicas serve calls at that moment; and neither the
 * database file nor anything Redis holds contains a token the upstream's authorization server
 * issued.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.js';
import { loginAtProvider, signInThrough } from './helpers/browser-sign-in.js';
import { runCli, startCli, type DemoProcess } from './helpers/demo-process.js';
import { freePort } from './helpers/everything.js';
import { TestOAuthClient } from './helpers/oauth-client.js';
import { startOpenIdProvider, type OpenIdProvider } from './helpers/openid-provider.js';
import { startProtectedUpstream, type ProtectedUpstream } from './helpers/protected-upstream.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';

let idp: OpenIdProvider;
let upstream: ProtectedUpstream;
let browser: Browser;
let dir: string;
let loginSecret: string;
const [oldKey, newKey] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
const running: DemoProcess[] = [];

beforeAll(async () => {
  idp = await startOpenIdProvider();
  upstream = await startProtectedUpstream();
  for (const person of ['grace', 'heidi']) {
    idp.people.set(person, { email: `${person}@example.com` });
    upstream.people.add(person);
  }
  dir = mkdtempSync(join(tmpdir(), 'sg-credentials-durable-'));
  loginSecret = join(dir, 'login-secret');
  writeFileSync(loginSecret, idp.clientSecret);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  for (const process of running) await process.kill('SIGKILL');
  await browser?.close();
  await upstream?.close();
  await idp?.close();
});

function keyFile(...keys: string[]): string {
  const file = join(dir, `key-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, `${keys.join('\n')}\n`);
  return file;
}

function gatewayArgs(port: number, store: string, key: string, extra: string[] = []): string[] {
  return [
    ...['--port', String(port), '--store', store, '--upstream', upstream.url, '--upstream-era', 'handshake'],
    ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', loginSecret],
    ...['--upstream-credentials', 'oauth', '--upstream-name', 'issues', '--upstream-scope', 'mcp', '--secrets-key-file', key, ...extra],
  ];
}

async function gatewayProcess(port: number, store: string, key: string, extra: string[] = []): Promise<DemoProcess> {
  const started = await startCli(gatewayArgs(port, store, key, extra));
  running.push(started);
  return started;
}

/** Signs `login` in through the gateway at `url` (the SDK's OAuth flow, a real browser) and connects their account upstream. */
async function signInAndConnect(url: string, login: string): Promise<TestOAuthClient> {
  const provider = await signInThrough(browser, url, login);
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${new URL(url).origin}/connections/connect?server=issues`);
    await loginAtProvider(page, login);
    await page.click('button.allow');
    await loginAtProvider(page, login);
    await page.waitForSelector('h1:has-text("issues is connected")');
  } finally {
    await context.close();
  }
  return provider;
}

async function whoamiAt(url: string, provider: TestOAuthClient): Promise<Client> {
  const client = new Client({ name: 'host', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
  return client;
}

const whoami = async (client: Client): Promise<string> =>
  ((await client.callTool({ name: 'whoami', arguments: {} })) as { content: { text: string }[] }).content[0]!.text;

function expectNoTokenIn(text: string): void {
  expect(upstream.issued.length).toBeGreaterThan(0);
  for (const token of upstream.issued) expect(text.includes(token), 'a token the upstream issued is kept in clear').toBe(false);
}

describe('SQLite: a restart, a rotated key, a wrong key', () => {
  it('the connection survives a restart; the database holds no token in clear; a rotated key keeps it; a wrong key is one line at start', async () => {
    const port = await freePort();
    const file = join(dir, 'gateway.db');
    const store = `sqlite:${file}`;
    let gateway = await gatewayProcess(port, store, keyFile(oldKey));
    idp.serve(`http://127.0.0.1:${port}/oauth/callback`);
    const grace = await signInAndConnect(gateway.url, 'grace');
    expect(await gateway.kill('SIGTERM')).toBe(0);

    gateway = await gatewayProcess(port, store, keyFile(oldKey));
    let client = await whoamiAt(gateway.url, grace);
    expect(await whoami(client)).toBe('grace');
    await client.close();
    expect(await gateway.kill('SIGTERM')).toBe(0);
    const files = readdirSync(dir).filter((name) => name.startsWith('gateway.db'));
    expectNoTokenIn(files.map((name) => readFileSync(join(dir, name)).toString('latin1')).join('\n'));

    // Rotation: the new key first, the old after it; the person is not asked again.
    gateway = await gatewayProcess(port, store, keyFile(newKey, oldKey));
    client = await whoamiAt(gateway.url, grace);
    expect(await whoami(client)).toBe('grace');
    await client.close();
    expect(await gateway.kill('SIGTERM')).toBe(0);
    // What was read was sealed again under the new key: the old one can go.
    gateway = await gatewayProcess(port, store, keyFile(newKey));
    client = await whoamiAt(gateway.url, grace);
    expect(await whoami(client)).toBe('grace');
    await client.close();
    expect(await gateway.kill('SIGTERM')).toBe(0);

    const wrong = await runCli(gatewayArgs(port, store, keyFile(randomBytes(32).toString('hex'))));
    expect(wrong.code).not.toBe(0);
    const lines = wrong.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/secrets key does not open this store's vault/);
  }, 120_000);
});

describe('two replicas on one Redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a connection made at one replica serves the other; a token due is renewed once while both serve calls; Redis holds no token in clear', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const balancer = await startTcpProxy(`http://127.0.0.1:${portA}/mcp`);
    const key = keyFile(oldKey);
    const a = await gatewayProcess(portA, redis.url, key, ['--public-url', balancer.url]);
    const b = await gatewayProcess(portB, redis.url, key, ['--public-url', balancer.url]);
    idp.serve(`${new URL(balancer.url).origin}/oauth/callback`);
    try {
      upstream.accessTokenSeconds = 4;
      const heidi = await signInAndConnect(balancer.url, 'heidi');
      upstream.accessTokenSeconds = 600;
      const [atA, atB] = [await whoamiAt(a.url, heidi), await whoamiAt(b.url, heidi)];
      expect([await whoami(atA), await whoami(atB)]).toEqual(['heidi', 'heidi']);
      // Due: past half of its 4 s life (the broker renews short-lived tokens then).
      const connectedAt = Date.now();
      await expect.poll(() => Date.now() - connectedAt >= 2500, { timeout: 10_000, interval: 100 }).toBe(true);
      const before = upstream.refreshes.granted;
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => whoami(i % 2 === 0 ? atA : atB)));
      expect(answers).toEqual(Array(20).fill('heidi'));
      expect(upstream.refreshes.granted - before).toBe(1);
      await atA.close();
      await atB.close();

      const reader = new Redis(redis.url);
      try {
        const held: string[] = [];
        for (const key of await reader.keys('*')) {
          const type = await reader.type(key);
          if (type === 'string') held.push(key, (await reader.get(key)) ?? '');
          else if (type === 'hash') held.push(key, JSON.stringify(await reader.hgetall(key)));
          else if (type === 'stream') held.push(key, JSON.stringify(await reader.xrange(key, '-', '+')));
          else if (type === 'zset') held.push(key, JSON.stringify(await reader.zrange(key, '0', '-1')));
          else if (type === 'set') held.push(key, JSON.stringify(await reader.smembers(key)));
          else if (type === 'list') held.push(key, JSON.stringify(await reader.lrange(key, 0, -1)));
        }
        expect(held.join('\n')).toContain('vault:');
        expectNoTokenIn(held.join('\n'));
      } finally {
        reader.disconnect();
      }
    } finally {
      await balancer.close();
    }
  }, 120_000);
});
