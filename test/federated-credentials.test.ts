/**
 * Each person's own credentials for several servers of a federation (docs/CREDENTIALS.md,
 * "Several servers"): two official-SDK servers, each behind an authorization server of its own
 * (oidc-provider), and one server that takes no credentials, federated behind a gateway that
 * signs people in (`--auth oauth`, a real OpenID provider). A real browser (chromium) connects
 * each server on the gateway's page. A person sees the tools of the servers they connected and
 * of the open one; a call to a server they did not connect is not sent and names that server's
 * page; each server gets that person's token of its own authorization server, never another's.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, seriousViolations } from './helpers/browser.js';
import { connectThrough, loginAtProvider, pasteKeyThrough, refusal, signInThrough } from './helpers/browser-sign-in.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import type { TestOAuthClient } from './helpers/oauth-client.js';
import { startOpenIdProvider, type OpenIdProvider } from './helpers/openid-provider.js';
import { startProtectedUpstream, type ProtectedUpstream } from './helpers/protected-upstream.js';
import { startServer, type RunningServer } from './helpers/test-server.js';
import { gatewayFromArgs } from '../src/cli/gateway/gateway-command.js';
import { parseServerEntry } from '../src/cli/gateway/server-specs.js';

const ADMIN = 'federated-credentials-admin-token-0123';
let idp: OpenIdProvider;
let issues: ProtectedUpstream;
let tasks: ProtectedUpstream;
let open: RunningServer;
let gateway: InProcessGateway;
let browser: Browser;
let audit: string;
let dir: string;
let signIn: string[];
let policy: string;
const writePolicy = (rules: Record<string, unknown>[]): void => writeFileSync(policy, JSON.stringify({ default: 'allow', rules }));
const NOT_BOB = {
  id: 'tasks-not-bob',
  effect: 'deny',
  subjects: ['bob'],
  connections: ['tasks'],
  reason: 'tasks is for the planning team',
};

beforeAll(async () => {
  [idp, issues, tasks, open] = await Promise.all([
    startOpenIdProvider(),
    startProtectedUpstream(),
    startProtectedUpstream(),
    startServer(),
  ]);
  for (const person of ['alice', 'bob']) {
    idp.people.set(person, { email: `${person}@example.com` });
    issues.people.add(person);
    tasks.people.add(person);
  }
  dir = mkdtempSync(join(tmpdir(), 'sg-federated-credentials-'));
  const loginSecret = join(dir, 'login-secret');
  const vaultKey = join(dir, 'vault.key');
  const config = join(dir, 'gateway.json');
  audit = join(dir, 'audit.jsonl');
  policy = join(dir, 'policy.json');
  writePolicy([NOT_BOB]);
  writeFileSync(loginSecret, idp.clientSecret);
  writeFileSync(vaultKey, randomBytes(32).toString('hex'));
  writeFileSync(
    config,
    JSON.stringify({
      servers: {
        issues: { url: issues.url, credentials: { kind: 'oauth', scope: 'mcp' } },
        tasks: { url: tasks.url, credentials: { kind: 'oauth', scope: 'mcp' } },
        open: { url: open.url },
      },
    }),
  );
  signIn = ['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', loginSecret];
  gateway = await startGateway([
    ...['--port', '0', '--store', 'memory', '--config', config, '--admin-token', ADMIN, '--audit', audit, '--policy', policy],
    ...signIn,
    ...['--secrets-key-file', vaultKey],
  ]);
  idp.serve(`${new URL(gateway.url).origin}/oauth/callback`);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gateway?.kill();
  await Promise.all([issues?.close(), tasks?.close(), open?.close(), idp?.close()]);
});

const origin = (): string => new URL(gateway.url).origin;
const connectUrl = (server: string): string => `${origin()}/connections/connect?server=${server}`;

/** A signed-in person's client, counting the `tools/list_changed` it is told of. */
async function connectClient(provider: TestOAuthClient): Promise<{ client: Client; toolsChanged: () => number }> {
  const client = new Client({ name: 'host', version: '1' });
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider }));
  return { client, toolsChanged: () => changed };
}

const toolNames = async (client: Client): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name).sort();
const whoami = async (client: Client, server: string): Promise<string> =>
  ((await client.callTool({ name: `${server}__whoami`, arguments: {} })) as { content: { text: string }[] }).content[0]!.text;

describe('per-person credentials for servers of a federation', () => {
  it('each person sees and reaches what they connected, each server gets their token of its own authorization server', async () => {
    // A server that wants each person's token refuses the gateway's own probe: that counts as up.
    const health = (await (await fetch(`${origin()}/healthz?servers=1`)).json()) as { servers: { name: string; state: string }[] };
    expect(health.servers.map(({ name, state }) => [name, state])).toEqual([
      ['issues', 'up'],
      ['tasks', 'up'],
      ['open', 'up'],
    ]);
    const alice = await signInThrough(browser, gateway.url, 'alice');
    const { client, toolsChanged } = await connectClient(alice);
    // Nothing connected yet: the open server's tools only, and a call elsewhere names that server's page.
    const openTools = await toolNames(client);
    expect(openTools.length).toBeGreaterThan(0);
    expect(openTools.every((name) => name.startsWith('open__'))).toBe(true);
    const before = { issues: issues.calls.length, tasks: tasks.calls.length };
    const { code, url } = await refusal(whoami(client, 'issues'));
    expect([code, url]).toEqual([-32042, connectUrl('issues')]);
    expect((await refusal(whoami(client, 'tasks'))).url).toBe(connectUrl('tasks'));

    // Alice connects issues: her session is told its tools changed, and issues' tools join the list.
    const connected = await connectThrough(browser, url, 'alice');
    expect(connected.title).toBe('issues is connected');
    await connected.close();
    await expect.poll(toolsChanged, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await toolNames(client)).toEqual([...openTools, 'issues__whoami'].sort());
    expect(await whoami(client, 'issues')).toBe('alice');
    await refusal(whoami(client, 'tasks'));

    await (await connectThrough(browser, connectUrl('tasks'), 'alice')).close();
    expect(await whoami(client, 'tasks')).toBe('alice');
    expect(await whoami(client, 'issues')).toBe('alice');
    // Each server got tokens its own authorization server issued (each checks its audience too).
    const gotIssues = issues.calls.slice(before.issues).map((call) => call.token);
    const gotTasks = tasks.calls.slice(before.tasks).map((call) => call.token);
    expect(gotIssues).toHaveLength(2);
    expect(gotTasks).toHaveLength(1);
    for (const token of gotIssues) expect(issues.issued).toContain(token);
    for (const token of gotTasks) expect(tasks.issued).toContain(token);
    expect(gotIssues.some((token) => tasks.issued.includes(token))).toBe(false);
    await client.close();

    // Bob connected nothing: Alice's connections are not his.
    const bob = await signInThrough(browser, gateway.url, 'bob');
    const bobs = await connectClient(bob);
    expect(await toolNames(bobs.client)).toEqual(openTools);
    await refusal(whoami(bobs.client, 'issues'));
    await bobs.client.close();
    expect(issues.calls.slice(before.issues + 2)).toEqual([]);
  }, 180_000);

  it("the person's page lists every server to connect; an operator sees and removes one server's connection", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin()}/connections`);
      await loginAtProvider(page, 'alice');
      await page.waitForSelector('h1:has-text("Servers connected")');
      const cards = await page.locator('li.card').allTextContents();
      expect(cards.map((text) => text.split('\n')[0]!.trim())).toEqual(['issues: connected', 'tasks: connected']);
    } finally {
      await context.close();
    }
    // A server that takes no credentials has no page to connect it.
    expect((await fetch(connectUrl('open'))).status).toBe(404);
    // A gateway whose public URL is not https publishes no client metadata document (none would fetch it).
    expect((await fetch(`${origin()}/connections/client-metadata.json`)).status).toBe(404);
    const person = `issuer=${encodeURIComponent(idp.issuer)}&subject=alice`;
    const admin = (path: string, method = 'GET'): Promise<Response> =>
      fetch(`${origin()}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}` } });
    const listed = (await (await admin(`/admin/connections?${person}`)).json()) as { connections: { server: string }[] };
    expect(listed.connections.map((connection) => connection.server)).toEqual(['issues', 'tasks']);
    expect((await admin(`/admin/connections?${person}&server=open`, 'DELETE')).status).toBe(404);
    expect((await admin(`/admin/connections?${person}&server=tasks`, 'DELETE')).status).toBe(200);
    const after = (await (await admin(`/admin/connections?${person}`)).json()) as { connections: { server: string }[] };
    expect(after.connections.map((connection) => connection.server)).toEqual(['issues']);

    const alice = await signInThrough(browser, gateway.url, 'alice');
    const { client } = await connectClient(alice);
    expect(await whoami(client, 'issues')).toBe('alice');
    expect((await refusal(whoami(client, 'tasks'))).url).toBe(connectUrl('tasks'));
    expect((await toolNames(client)).filter((name) => !name.startsWith('open__'))).toEqual(['issues__whoami']);
    await client.close();
    const lines = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line['event'] === 'credentials').map((line) => [line['action'], line['server']])).toEqual([
      ['connected', 'issues'],
      ['connected', 'tasks'],
      ['disconnected', 'tasks'],
    ]);
    for (const token of [...issues.issued, ...tasks.issued]) expect(readFileSync(audit, 'utf8')).not.toContain(token);
  }, 120_000);
});

describe('the operator console', () => {
  it("shows what a person connected (never a token) and disconnects it; the audit names the console's action", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${origin()}/console/`);
      await page.getByLabel('Admin token').fill(ADMIN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('link', { name: 'Grants' }).click();
      await page.getByLabel('Issuer').fill(idp.issuer);
      await page.getByLabel('Subject').fill('alice');
      await page.getByRole('button', { name: 'Look up' }).click();
      const entry = page.locator('li[data-server="issues"]');
      await entry.waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      const shown = (await page.content()).toLowerCase();
      for (const token of issues.issued) expect(shown).not.toContain(token.toLowerCase());
      await entry.getByRole('button', { name: 'Disconnect issues' }).click();
      await page.getByText('issues disconnected.').waitFor();
      expect(await page.locator('li[data-server]').count()).toBe(0);
    } finally {
      await context.close();
    }
    const alice = await signInThrough(browser, gateway.url, 'alice');
    const { client } = await connectClient(alice);
    expect((await refusal(whoami(client, 'issues'))).url).toBe(connectUrl('issues'));
    await client.close();
    const consoleActions = (): unknown[] =>
      readFileSync(audit, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line['event'] === 'console');
    await expect
      .poll(consoleActions, { timeout: 5000 })
      .toContainEqual(expect.objectContaining({ action: 'disconnect', server: 'issues' }));
    // Connected again for what follows.
    await (await connectThrough(browser, connectUrl('issues'), 'alice')).close();
  }, 120_000);
});

describe('the policy decides who may connect what, and use it', () => {
  it('a rule naming connections keeps a person from connecting a server, and from using a connection made before it', async () => {
    // Bob may not connect tasks: the page says why, before anything is asked of tasks' server.
    const registrations = tasks.registrations;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(connectUrl('tasks')); // to sign in first, then back
      const answer = page.waitForResponse((response) => response.url() === connectUrl('tasks'));
      await loginAtProvider(page, 'bob');
      expect((await answer).status()).toBe(403);
      expect(await page.textContent('main')).toContain('tasks is for the planning team');
      await page.goto(`${origin()}/connections`);
      const cards = await page.locator('li.card').allTextContents();
      expect(cards.map((text) => text.replace(/\s+/g, ' ').trim())).toEqual([
        'issues: not connected Connect issues',
        'tasks: not available to you tasks is for the planning team',
      ]);
    } finally {
      await context.close();
    }
    expect(tasks.registrations).toBe(registrations);

    // Alice connected issues before a rule forbade it: her connection is no longer used, and issues leaves her lists.
    const alice = await signInThrough(browser, gateway.url, 'alice');
    const { client } = await connectClient(alice);
    expect(await whoami(client, 'issues')).toBe('alice');
    writePolicy([
      NOT_BOB,
      { id: 'issues-not-alice', effect: 'deny', subjects: ['alice'], connections: ['issues'], reason: 'issues is closed to you' },
    ]);
    await expect
      .poll(() => whoami(client, 'issues').catch((error: Error) => error.message), { timeout: 10_000, interval: 200 })
      .toMatch(/-31050.*issues is closed to you/);
    // From then on, nothing of hers reaches issues.
    const calls = issues.calls.length;
    await expect(whoami(client, 'issues')).rejects.toThrow(/issues is closed to you/);
    expect((await toolNames(client)).some((name) => name.startsWith('issues__'))).toBe(false);
    expect(issues.calls.length).toBe(calls);
    await client.close();
    writePolicy([NOT_BOB]);
  }, 120_000);
});

describe("stdio servers of a federation: each person's key in their child's environment, or in each request's _meta", () => {
  let local: InProcessGateway;
  const fixture = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
  beforeAll(async () => {
    const key = join(dir, 'stdio.key');
    writeFileSync(key, randomBytes(32).toString('hex'));
    const config = join(dir, 'stdio.json');
    const command = `"${process.execPath}" ${fixture}`;
    writeFileSync(
      config,
      JSON.stringify({
        servers: {
          envkey: { stdio: command, credentials: { kind: 'secret', env: 'EXAMPLE_API_KEY' } },
          metakey: { stdio: command, credentials: { kind: 'secret', meta: 'example.com/api-key' } },
        },
      }),
    );
    local = await startGateway(['--port', '0', '--store', 'memory', '--config', config, ...signIn, '--secrets-key-file', key]);
    idp.serve(`${new URL(local.url).origin}/oauth/callback`);
  }, 60_000);
  afterAll(async () => {
    await local?.kill();
  });

  it('each server gets the key the person gave it, in the place it reads it from; a forged key is replaced', async () => {
    const page = (server: string): string => `${new URL(local.url).origin}/connections/connect?server=${server}`;
    expect(await pasteKeyThrough(browser, page('envkey'), 'alice', 'alice-env-key')).toBe('envkey is connected');
    expect(await pasteKeyThrough(browser, page('metakey'), 'alice', 'alice-meta-key')).toBe('metakey is connected');
    const alice = await signInThrough(browser, local.url, 'alice');
    const client = new Client({ name: 'host', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(local.url), { authProvider: alice }));
    const text = async (name: string, args: Record<string, unknown>, meta?: Record<string, unknown>): Promise<string> =>
      ((await client.callTool({ name, arguments: args, ...(meta && { _meta: meta }) })) as { content: { text: string }[] }).content[0]!
        .text;
    expect(await text('envkey__env', { name: 'EXAMPLE_API_KEY' })).toBe('alice-env-key');
    expect(JSON.parse(await text('metakey__meta', {}))).toMatchObject({ 'example.com/api-key': 'alice-meta-key' });
    expect(JSON.parse(await text('metakey__meta', {}, { 'example.com/api-key': 'forged' }))).toMatchObject({
      'example.com/api-key': 'alice-meta-key',
    });
    // The env server reads no _meta key, the meta server's child has no key in its environment.
    expect(await text('metakey__env', { name: 'EXAMPLE_API_KEY' })).toBe('');
    await client.close();

    // Bob gave no key: neither server is listed for him, and a call is not sent.
    const bob = await signInThrough(browser, local.url, 'bob');
    const bobs = new Client({ name: 'host', version: '1' });
    await bobs.connect(new StreamableHTTPClientTransport(new URL(local.url), { authProvider: bob }));
    expect((await bobs.listTools()).tools).toEqual([]);
    expect((await refusal(bobs.callTool({ name: 'envkey__env', arguments: { name: 'EXAMPLE_API_KEY' } }))).url).toBe(page('envkey'));
    await bobs.close();
  }, 120_000);
});

describe('settings', () => {
  /** The reason `sessiongate ARGS` (with a config file of `servers`) refuses to start. */
  const refused = async (servers: Record<string, unknown>, args: string[]): Promise<string> => {
    const config = join(dir, `refused-${randomBytes(4).toString('hex')}.json`);
    writeFileSync(config, JSON.stringify({ servers }));
    const error = await gatewayFromArgs(['--port', '0', '--store', 'memory', '--config', config, ...args]).then(
      () => new Error('it started'),
      (failure: Error) => failure,
    );
    return error.message;
  };

  it('refuses per-person credentials that cannot work, each in one line naming the server', async () => {
    const key = join(dir, 'refused.key');
    writeFileSync(key, randomBytes(32).toString('hex'));
    const protectedServer = { url: issues.url, credentials: 'oauth' };
    expect(await refused({ issues: protectedServer }, ['--secrets-key-file', key])).toMatch(
      /server "issues": credentials oauth needs --auth oauth/,
    );
    expect(await refused({ issues: protectedServer }, signIn)).toMatch(/server "issues": credentials oauth needs --secrets-key-file/);
    expect(
      await refused({ issues: { ...protectedServer, forwardHeaders: ['authorization'] } }, [...signIn, '--secrets-key-file', key]),
    ).toMatch(/--forward-header authorization would send another/);
    expect(await refused({ local: { stdio: 'node x.js', credentials: 'secret' } }, signIn)).toMatch(
      /server "local": credentials: a stdio server needs one of meta .* and env/,
    );
    expect(await refused({ local: { stdio: 'node x.js', credentials: 'oauth' } }, signIn)).toMatch(/a stdio server takes kind "secret"/);
    expect(await refused({ issues: { ...protectedServer, credentials: { kind: 'secret', env: 'KEY' } } }, signIn)).toMatch(
      /meta and env are for stdio servers/,
    );
    expect(await refused({ issues: { ...protectedServer, credentials: { kind: 'secret', scope: 'mcp' } } }, signIn)).toMatch(
      /scope, .* are for kind "oauth"/,
    );
    expect(await refused({ issues: { ...protectedServer, credentials: 'maybe' } }, signIn)).toMatch(/server "issues": credentials/);
    expect(await refused({ issues: { url: issues.url } }, [...signIn, '--upstream-client-id', 'x'])).toMatch(
      /--upstream-client-id is for one --upstream/,
    );
  });

  it("a reload keeps each server's credentials as they started: changing them is refused, what runs is kept", async () => {
    const key = join(dir, 'reload.key');
    writeFileSync(key, randomBytes(32).toString('hex'));
    const config = join(dir, 'reload.json');
    writeFileSync(config, JSON.stringify({ servers: { issues: { url: issues.url, credentials: 'oauth' }, open: { url: open.url } } }));
    const served = await gatewayFromArgs(['--port', '0', '--store', 'memory', '--config', config, ...signIn, '--secrets-key-file', key]);
    try {
      const secretNow = parseServerEntry('open', { url: open.url }, parseServerEntry('issues', { url: issues.url, credentials: 'secret' }));
      await expect(served.reloadServers!(secretNow)).rejects.toThrow(/server "issues": its credentials change at the next start/);
      const without = parseServerEntry('open', { url: open.url });
      await expect(served.reloadServers!(without)).rejects.toThrow(/server "issues"/);
      const added = parseServerEntry(
        'more',
        { url: open.url },
        parseServerEntry('open', { url: open.url }, parseServerEntry('issues', { url: issues.url, credentials: 'oauth' })),
      );
      expect(await served.reloadServers!(added)).toBe('servers reloaded: added more');
    } finally {
      await served.stop();
    }
  });
});
