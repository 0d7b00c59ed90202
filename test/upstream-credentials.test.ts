/**
 * Each person's own credentials upstream (docs/CREDENTIALS.md), end to end: people sign in
 * through the gateway (`--auth oauth`, a real OpenID provider) with the official SDK client;
 * the upstream is an official-SDK server that acts as whoever's token it gets, behind its own
 * authorization server (oidc-provider: registration, resource indicators, rotated refresh
 * tokens). A real browser (chromium) connects each person's account there on the gateway's
 * page. Without a connection the call is not sent and the client gets the URL to connect
 * (URLElicitationRequiredError); with one, the upstream sees that person and nobody else.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitationCompleteNotificationSchema, ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, seriousViolations } from './helpers/browser.js';
import { bearerInitialize, connectThrough, loginAtProvider, pasteKeyThrough, refusal, signInThrough } from './helpers/browser-sign-in.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { TestOAuthClient } from './helpers/oauth-client.js';
import { startOpenIdProvider, type OpenIdProvider } from './helpers/openid-provider.js';
import { startProtectedUpstream, type ProtectedUpstream } from './helpers/protected-upstream.js';
import { freePort } from './helpers/everything.js';
import { send } from './helpers/mcp-http.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';

const ADMIN = 'credentials-test-admin-token-0123456789';
let idp: OpenIdProvider;
let upstream: ProtectedUpstream;
let gateway: InProcessGateway;
let browser: Browser;
let audit: string;

beforeAll(async () => {
  idp = await startOpenIdProvider();
  upstream = await startProtectedUpstream();
  for (const person of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'ivan', 'judy', 'kim', 'lee', 'mallory', 'nina']) {
    idp.people.set(person, { email: `${person}@example.com` });
    upstream.people.add(person);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sg-credentials-'));
  const loginSecret = join(dir, 'login-secret');
  const vaultKey = join(dir, 'vault.key');
  audit = join(dir, 'audit.jsonl');
  writeFileSync(loginSecret, idp.clientSecret);
  writeFileSync(vaultKey, randomBytes(32).toString('hex'));
  gateway = await startGateway([
    ...['--port', '0', '--store', 'memory', '--upstream', upstream.url, '--upstream-era', 'handshake'],
    ...['--admin-token', ADMIN, '--audit', audit],
    ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', loginSecret],
    ...['--upstream-credentials', 'oauth', '--upstream-name', 'issues', '--upstream-scope', 'mcp', '--secrets-key-file', vaultKey],
  ]);
  idp.serve(`${new URL(gateway.url).origin}/oauth/callback`);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gateway?.kill();
  await upstream?.close();
  await idp?.close();
});

/** A person signed in through the gateway with the SDK's own OAuth flow: their client's auth provider. */
const signedIn = (login: string): Promise<TestOAuthClient> => signInThrough(browser, gateway.url, login);

async function connectClient(provider: TestOAuthClient): Promise<Client> {
  const client = new Client({ name: 'host', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider }));
  return client;
}

const connectInBrowser = (url: string, login: string, upstreamLogin = login): ReturnType<typeof connectThrough> =>
  connectThrough(browser, url, login, upstreamLogin);

const pasteKey = (url: string, login: string, key: string): Promise<string> => pasteKeyThrough(browser, url, login, key);

const whoami = async (client: Client): Promise<string> =>
  ((await client.callTool({ name: 'whoami', arguments: {} })) as { content: { text: string }[] }).content[0]!.text;

const auditLines = (): Record<string, unknown>[] =>
  readFileSync(audit, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('each person acts upstream as themselves', () => {
  it('no connection: nothing is sent, the client gets the page to connect; once Alice and Bob connected, each call carries their own token', async () => {
    const alice = await signedIn('alice');
    const bob = await signedIn('bob');
    const before = upstream.calls.length;
    const resourcesBefore = upstream.resourcesAsked.length;
    // The session cannot even open upstream without a token: initialize is refused with the URL.
    const { code, url } = await refusal(connectClient(alice));
    expect(code).toBe(-32042);
    expect(url).toBe(`${new URL(gateway.url).origin}/connections/connect?server=issues`);

    const connected = await connectInBrowser(url, 'alice');
    expect(connected.title).toBe('issues is connected');
    await connected.close();
    const aliceClient = await connectClient(alice);
    expect(await whoami(aliceClient)).toBe('alice');
    // Bob, still unconnected, is refused; Alice's connection is not his.
    await refusal(connectClient(bob));
    await (await connectInBrowser(url, 'bob')).close();
    const bobClient = await connectClient(bob);
    expect(await whoami(bobClient)).toBe('bob');
    expect(await whoami(aliceClient)).toBe('alice');
    expect(upstream.calls.slice(before).map((call) => call.subject)).toEqual(['alice', 'bob', 'alice']);
    // RFC 8707: every authorization and token request named the upstream (two of each).
    expect(upstream.resourcesAsked.slice(resourcesBefore)).toEqual(Array(4).fill(upstream.url));
    // Neither person's gateway token ever reached the upstream.
    const gatewayTokens = [alice.tokens()!.access_token, bob.tokens()!.access_token];
    for (const call of upstream.calls) expect(gatewayTokens).not.toContain(call.token);
    await aliceClient.close();
    await bobClient.close();
    await expect
      .poll(() => auditLines().filter((line) => line['event'] === 'credentials'), { timeout: 5000 })
      .toEqual(
        expect.arrayContaining([
          expect.objectContaining({ action: 'connected', server: 'issues', person: 'alice@example.com (alice)' }),
          expect.objectContaining({ action: 'connected', server: 'issues', person: 'bob@example.com (bob)' }),
        ]),
      );
    expect(readFileSync(audit, 'utf8')).not.toContain(upstream.calls[0]!.token);
  }, 120_000);

  it("a link sent by someone else connects the account of whoever signs in to follow it, never the sender's", async () => {
    const carol = await signedIn('carol');
    const { url } = await refusal(connectClient(carol));
    // Dave opens the link Carol's client was given: he signs in as himself, and it is his connection.
    await (await connectInBrowser(url, 'dave')).close();
    await refusal(connectClient(carol));
    const dave = await signedIn('dave');
    const daveClient = await connectClient(dave);
    expect(await whoami(daveClient)).toBe('dave');
    await daveClient.close();
  }, 120_000);
});

const admin = (path: string, method = 'GET'): Promise<Response> =>
  fetch(new URL(path, gateway.url), { method, headers: { authorization: `Bearer ${ADMIN}` } });

interface Listed {
  connections: { server: string; person: string; connectedAt: number; refreshedAt: number; expiresAt: number | null }[];
}

/** Waits (bounded) until the person's token is due for renewal: past half its life, as the broker renews short-lived tokens. */
async function untilRenewalDue(subject: string): Promise<void> {
  const listed = (await (await admin(`/admin/connections?issuer=${encodeURIComponent(idp.issuer)}&subject=${subject}`)).json()) as Listed;
  const { expiresAt, refreshedAt } = listed.connections[0]!;
  const due = expiresAt! - Math.min(60_000, (expiresAt! - refreshedAt) / 2);
  await expect.poll(() => Date.now() >= due, { timeout: 15_000, interval: 100 }).toBe(true);
}

const connectUrl = (): string => `${new URL(gateway.url).origin}/connections/connect?server=issues`;

describe('renewal', () => {
  it('20 calls at once when the token is due: one refresh at the authorization server, and every call acts as the person', async () => {
    upstream.accessTokenSeconds = 4;
    const erin = await signedIn('erin');
    await (await connectInBrowser(connectUrl(), 'erin')).close();
    upstream.accessTokenSeconds = 600;
    const client = await connectClient(erin);
    expect(await whoami(client)).toBe('erin');
    await untilRenewalDue('erin');
    const before = upstream.refreshes.granted;
    const answers = await Promise.all(Array.from({ length: 20 }, () => whoami(client)));
    expect(answers).toEqual(Array(20).fill('erin'));
    expect(upstream.refreshes.granted - before).toBe(1);
    await expect
      .poll(auditLines, { timeout: 5000 })
      .toContainEqual(expect.objectContaining({ event: 'credentials', action: 'refreshed', person: 'erin@example.com (erin)' }));
    await client.close();
  }, 120_000);

  it('a refresh the authorization server refuses forgets the connection: the next call asks the person to connect again', async () => {
    upstream.accessTokenSeconds = 4;
    const frank = await signedIn('frank');
    await (await connectInBrowser(connectUrl(), 'frank')).close();
    upstream.accessTokenSeconds = 600;
    const client = await connectClient(frank);
    expect(await whoami(client)).toBe('frank');
    upstream.people.delete('frank'); // the upstream no longer knows him: his refresh token is refused
    await untilRenewalDue('frank');
    const { code } = await refusal(whoami(client));
    expect(code).toBe(-32042);
    expect(upstream.refreshes.refused).toBeGreaterThan(0);
    await expect.poll(auditLines, { timeout: 5000 }).toContainEqual(
      expect.objectContaining({
        event: 'credentials',
        action: 'refresh.failed',
        person: 'frank@example.com (frank)',
        reason: 'invalid_grant',
      }),
    );
    await client.close();
  }, 120_000);
});

describe('disconnecting', () => {
  it('a person disconnects on their own page (a form token required); the next call asks again', async () => {
    const alice = await signedIn('alice');
    await (await connectInBrowser(connectUrl(), 'alice')).close(); // whatever ran before
    const client = await connectClient(alice);
    expect(await whoami(client)).toBe('alice');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${new URL(gateway.url).origin}/connections`);
      await loginAtProvider(page, 'alice');
      await page.waitForSelector('h1:has-text("Servers connected")');
      expect(await page.textContent('li.card')).toContain('issues: connected');
      expect(await seriousViolations(page)).toEqual([]);
      const forged = await page.request.post(`${new URL(gateway.url).origin}/connections`, { form: { server: 'issues' } });
      expect(forged.status()).toBe(403);
      const revoked = upstream.revocations;
      await page.click('button.deny');
      await page.waitForSelector('li.card:has-text("not connected")');
      // The authorization server is told too (RFC 7009): the grant is dead there, not only forgotten here.
      expect(upstream.revocations).toBe(revoked + 1);
    } finally {
      await context.close();
    }
    await refusal(whoami(client));
    await expect
      .poll(auditLines, { timeout: 5000 })
      .toContainEqual(
        expect.objectContaining({ event: 'credentials', action: 'disconnected', person: 'alice@example.com (alice)', by: 'person' }),
      );
    await client.close();
  }, 120_000);

  it('an operator sees who connected what (never a token) and disconnects a person; their next call asks again', async () => {
    const bob = await signedIn('bob');
    await (await connectInBrowser(connectUrl(), 'bob')).close(); // whatever ran before
    // Connecting again replaces the grant, and the one replaced is revoked at the authorization server.
    const before = upstream.revocations;
    await (await connectInBrowser(connectUrl(), 'bob')).close();
    expect(upstream.revocations).toBe(before + 1);
    const client = await connectClient(bob);
    expect(await whoami(client)).toBe('bob');
    const query = `/admin/connections?issuer=${encodeURIComponent(idp.issuer)}&subject=bob`;
    const listed = await (await admin(query)).text();
    expect(JSON.parse(listed)).toMatchObject({ connections: [{ server: 'issues', person: 'bob@example.com (bob)' }] });
    for (const call of upstream.calls) expect(listed).not.toContain(call.token);
    expect((await admin(`${query}&server=other`, 'DELETE')).status).toBe(404);
    const revoked = upstream.revocations;
    expect((await admin(`${query}&server=issues`, 'DELETE')).status).toBe(200);
    // Its refresh token is revoked at the upstream's authorization server too (RFC 7009).
    expect(upstream.revocations).toBe(revoked + 1);
    expect((await admin(`${query}&server=issues`, 'DELETE')).status).toBe(404);
    await refusal(whoami(client));
    await expect
      .poll(auditLines, { timeout: 5000 })
      .toContainEqual(
        expect.objectContaining({ event: 'credentials', action: 'disconnected', person: 'bob@example.com (bob)', by: 'operator' }),
      );
    await client.close();
  }, 120_000);
});

// After the disconnections: they check revocations, which a forgotten client no longer makes.
describe('a registration the authorization server forgot', () => {
  it('its refusal (invalid_client) drops the connection; connecting again registers the gateway again and works', async () => {
    upstream.accessTokenSeconds = 4;
    const kim = await signedIn('kim');
    await (await connectInBrowser(connectUrl(), 'kim')).close();
    upstream.accessTokenSeconds = 600;
    const client = await connectClient(kim);
    expect(await whoami(client)).toBe('kim');
    const registrations = upstream.registrations;
    await upstream.forgetClients();
    await untilRenewalDue('kim');
    await refusal(whoami(client));
    await expect.poll(auditLines, { timeout: 5000 }).toContainEqual(
      expect.objectContaining({
        event: 'credentials',
        action: 'refresh.failed',
        person: 'kim@example.com (kim)',
        reason: 'invalid_client',
      }),
    );
    await (await connectInBrowser(connectUrl(), 'kim')).close();
    expect(upstream.registrations).toBe(registrations + 1);
    expect(await whoami(client)).toBe('kim');
    await client.close();
  }, 120_000);
});

describe('asked in the call (URL-mode elicitation)', () => {
  /** A client that opens URLs: each URL elicitation is accepted at once, and the person connects in the browser meanwhile. */
  async function urlClient(provider: TestOAuthClient, login: string, answer: 'accept' | 'decline' = 'accept') {
    const client = new Client({ name: 'host', version: '1' }, { capabilities: { elicitation: { url: {} } } });
    const asked: { mode?: string; url?: string; elicitationId?: string }[] = [];
    const completed: string[] = [];
    const browsing: Promise<void>[] = [];
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      const params = request.params as { mode?: string; url?: string; elicitationId?: string };
      asked.push(params);
      if (answer === 'accept') browsing.push(connectInBrowser(params.url!, login).then(({ close }) => close()));
      return { action: answer };
    });
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (notification) => {
      completed.push(notification.params.elicitationId);
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider }));
    return { client, asked, completed, browsing };
  }

  it('a person whose connection was lost is asked in the call; once they connected, the client is told and the call goes on', async () => {
    const ivan = await signedIn('ivan');
    await (await connectInBrowser(connectUrl(), 'ivan')).close();
    const { client, asked, completed, browsing } = await urlClient(ivan, 'ivan');
    expect(await whoami(client)).toBe('ivan');
    const query = `/admin/connections?issuer=${encodeURIComponent(idp.issuer)}&subject=ivan&server=issues`;
    expect((await admin(query, 'DELETE')).status).toBe(200);
    expect(await whoami(client)).toBe('ivan'); // asked, connected in the browser, then answered
    await Promise.all(browsing);
    expect(asked).toEqual([{ mode: 'url', url: connectUrl(), elicitationId: expect.any(String), message: expect.any(String) }]);
    expect(completed).toEqual([asked[0]!.elicitationId]);
    await client.close();
  }, 120_000);

  it("an answer to the question from someone else's session does not count: only the person asked ends or continues the call", async () => {
    // Mallory has a session of her own (she connected), and learns the id of the question Lee is asked.
    const mallory = await signedIn('mallory');
    await (await connectInBrowser(connectUrl(), 'mallory')).close();
    const opened = await bearerInitialize(gateway.url, mallory.tokens()!.access_token);
    const malloryAnswers = (id: string | number): Promise<Response> =>
      fetch(gateway.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${mallory.tokens()!.access_token}`,
          'mcp-session-id': opened.headers.get('mcp-session-id')!,
          'mcp-protocol-version': '2025-11-25',
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id, result: { action: 'decline' } }),
      });
    const lee = await signedIn('lee');
    await (await connectInBrowser(connectUrl(), 'lee')).close();
    const client = new Client({ name: 'host', version: '1' }, { capabilities: { elicitation: { url: {} } } });
    const strays: number[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      // Before Lee answers, Mallory declines in his place, from her session.
      strays.push((await malloryAnswers(extra.requestId)).status);
      await (await connectInBrowser((request.params as { url: string }).url, 'lee')).close();
      return { action: 'accept' };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: lee }));
    expect(await whoami(client)).toBe('lee');
    expect((await admin(`/admin/connections?issuer=${encodeURIComponent(idp.issuer)}&subject=lee&server=issues`, 'DELETE')).status).toBe(
      200,
    );
    expect(await whoami(client)).toBe('lee'); // Mallory's decline did not end it
    expect(strays).toEqual([202]);
    await client.close();
  }, 120_000);

  it('a sessionless (2026-07-28) client is asked in the multi-round-trip form; its retry goes on once the person connected', async () => {
    const nina = await signedIn('nina');
    const call = (capabilities: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      send(gateway.url, {
        body: {
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: {
            name: 'whoami',
            arguments: {},
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': capabilities,
              'io.modelcontextprotocol/clientInfo': { name: 'sessionless', version: '1' },
            },
            ...extra,
          },
        },
        headers: {
          authorization: `Bearer ${nina.tokens()!.access_token}`,
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'whoami',
        },
      });
    const opensUrls = { elicitation: { url: {} } };
    const calls = upstream.calls.length;
    // A client that cannot open URLs is told where to connect.
    expect(((await call({ elicitation: {} })).json as { error: { code: number } }).error.code).toBe(-32042);
    const asked = (await call(opensUrls)).json as {
      result: { resultType: string; inputRequests: Record<string, { method: string; params: Record<string, unknown> }> };
    };
    expect(asked.result.resultType).toBe('input_required');
    const [[key, question]] = Object.entries(asked.result.inputRequests) as [[string, { method: string; params: Record<string, unknown> }]];
    expect(question).toEqual({
      method: 'elicitation/create',
      params: { mode: 'url', url: connectUrl(), elicitationId: expect.stringMatching(/^[\w-]{22}$/), message: expect.any(String) },
    });
    const declined = (await call(opensUrls, { inputResponses: { [key]: { action: 'decline' } } })).json as { error: { code: number } };
    expect(declined.error.code).toBe(-32042);
    expect(upstream.calls.length).toBe(calls);
    // Accepted: the retry waits while Nina connects in her browser, then goes on as her.
    const retry = call(opensUrls, { inputResponses: { [key]: { action: 'accept' } } });
    await (await connectInBrowser(connectUrl(), 'nina')).close();
    const done = (await retry).json as { result: { content: { text: string }[] } };
    expect(done.result.content[0]!.text).toBe('nina');
    expect(upstream.calls.slice(calls).map((made) => made.subject)).toEqual(['nina']);
  }, 120_000);

  it('declined: the call is not sent and ends with the URL to connect', async () => {
    const judy = await signedIn('judy');
    await (await connectInBrowser(connectUrl(), 'judy')).close();
    const { client, asked } = await urlClient(judy, 'judy', 'decline');
    expect(await whoami(client)).toBe('judy');
    const calls = upstream.calls.length;
    const query = `/admin/connections?issuer=${encodeURIComponent(idp.issuer)}&subject=judy&server=issues`;
    expect((await admin(query, 'DELETE')).status).toBe(200);
    const { code } = await refusal(whoami(client));
    expect(code).toBe(-32042);
    expect(asked).toHaveLength(1);
    expect(upstream.calls.length).toBe(calls);
    await client.close();
  }, 120_000);
});

describe('a client the operator registered (--upstream-client-id)', () => {
  it("a wrong secret for it is the operator's mistake, said as such: no connection is kept, nothing is registered instead", async () => {
    const port = await freePort();
    const callback = `http://127.0.0.1:${port}/connections/callback`;
    const metadata = (await (await fetch(`${upstream.issuer}/.well-known/openid-configuration`)).json()) as {
      registration_endpoint: string;
    };
    const registered = (await (
      await fetch(metadata.registration_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: [callback],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        }),
      })
    ).json()) as { client_id: string };
    const dir = mkdtempSync(join(tmpdir(), 'sg-credentials-client-'));
    const [loginSecret, clientSecret, vaultKey] = [join(dir, 'login'), join(dir, 'client'), join(dir, 'vault.key')];
    writeFileSync(loginSecret, idp.clientSecret);
    writeFileSync(clientSecret, 'not-the-secret-it-was-given');
    writeFileSync(vaultKey, randomBytes(32).toString('hex'));
    const given = await startGateway([
      ...['--port', String(port), '--host', '127.0.0.1', '--store', 'memory', '--upstream', upstream.url, '--upstream-era', 'handshake'],
      ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', loginSecret],
      ...['--upstream-credentials', 'oauth', '--upstream-name', 'issues', '--upstream-scope', 'mcp', '--secrets-key-file', vaultKey],
      ...['--upstream-client-id', registered.client_id, '--upstream-client-secret-file', clientSecret],
    ]);
    try {
      idp.serve(`http://127.0.0.1:${port}/oauth/callback`);
      const registrations = upstream.registrations;
      const ended = await connectInBrowser(`http://127.0.0.1:${port}/connections/connect?server=issues`, 'kim');
      expect(ended.title).toBe('This connection cannot go on');
      expect(await ended.page.textContent('main')).toContain("refused the gateway's client (check --upstream-client-id and its secret)");
      await ended.close();
      expect(upstream.registrations).toBe(registrations);
      const kim = await signInThrough(browser, given.url, 'kim');
      await refusal(
        new Client({ name: 'host', version: '1' }).connect(new StreamableHTTPClientTransport(new URL(given.url), { authProvider: kim })),
      );
    } finally {
      await given.kill();
    }
  }, 120_000);
});

describe('an authorization server that refuses RFC 8707 (--upstream-resource-indicator off)', () => {
  it('is never sent `resource`, and its tokens still serve: it decides their audience itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-credentials-resource-'));
    const [loginSecret, vaultKey] = [join(dir, 'login'), join(dir, 'vault.key')];
    writeFileSync(loginSecret, idp.clientSecret);
    writeFileSync(vaultKey, randomBytes(32).toString('hex'));
    const plain = await startGateway([
      ...['--port', '0', '--store', 'memory', '--upstream', upstream.url, '--upstream-era', 'handshake'],
      ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', loginSecret],
      ...['--upstream-credentials', 'oauth', '--upstream-name', 'issues', '--upstream-scope', 'mcp', '--secrets-key-file', vaultKey],
      ...['--upstream-resource-indicator', 'off'],
    ]);
    try {
      idp.serve(`${new URL(plain.url).origin}/oauth/callback`);
      const asked = upstream.resourcesAsked.length;
      await (await connectInBrowser(`${new URL(plain.url).origin}/connections/connect?server=issues`, 'kim')).close();
      const kim = await signInThrough(browser, plain.url, 'kim');
      const client = new Client({ name: 'host', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(plain.url), { authProvider: kim }));
      expect(await whoami(client)).toBe('kim');
      await client.close();
      const sent = upstream.resourcesAsked.slice(asked);
      expect(sent.length).toBeGreaterThanOrEqual(2); // the authorization, the code's exchange
      expect(sent).toEqual(sent.map(() => undefined));
    } finally {
      await plain.kill();
    }
  }, 120_000);
});

describe('a key each person pastes (--upstream-credentials secret)', () => {
  let keyed: InProcessGateway;
  let plain: ServerProcess;
  beforeAll(async () => {
    plain = await startProcess('sdk-stateful-server.mjs', [String(await freePort())]);
    const dir = mkdtempSync(join(tmpdir(), 'sg-credentials-secret-'));
    const [loginSecret, vaultKey] = [join(dir, 'login-secret'), join(dir, 'vault.key')];
    writeFileSync(loginSecret, idp.clientSecret);
    writeFileSync(vaultKey, randomBytes(32).toString('hex'));
    keyed = await startGateway([
      ...['--port', '0', '--store', 'memory', '--upstream', plain.url, '--upstream-era', 'handshake'],
      ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', loginSecret],
      ...['--upstream-credentials', 'secret', '--upstream-secret-header', 'X-Api-Key', '--upstream-name', 'search'],
      ...['--secrets-key-file', vaultKey, '--upstream-header', 'x-api-key: shared-key-never-sent'],
    ]);
    idp.serve(`${new URL(keyed.url).origin}/oauth/callback`);
  }, 60_000);
  afterAll(async () => {
    await keyed?.kill();
    await plain?.kill();
  });

  const signedInAt = (login: string): Promise<TestOAuthClient> => signInThrough(browser, keyed.url, login);

  const apiKeySeen = async (client: Client): Promise<string | undefined> =>
    (
      JSON.parse(
        ((await client.callTool({ name: 'headers', arguments: {} })) as { content: { text: string }[] }).content[0]!.text,
      ) as Record<string, string>
    )['x-api-key'];

  it("each person pastes their own key on their page; the upstream gets theirs in its header, never the shared one or another person's", async () => {
    const [alice, bob] = [await signedInAt('alice'), await signedInAt('bob')];
    const first = new Client({ name: 'host', version: '1' });
    const { url } = await refusal(first.connect(new StreamableHTTPClientTransport(new URL(keyed.url), { authProvider: alice })));
    expect(url).toBe(`${new URL(keyed.url).origin}/connections/connect?server=search`);
    expect(await pasteKey(url, 'alice', 'alice-key-123')).toBe('search is connected');
    // A key with a space or a line break in it is refused (the browser already drops the line break): it could be a header of its own.
    expect(await pasteKey(url, 'bob', 'bob-key\r\nx-evil: 1')).toBe('This connection cannot go on');
    expect(await pasteKey(url, 'bob', 'bob-key-456')).toBe('search is connected');
    const [aliceClient, bobClient] = [new Client({ name: 'host', version: '1' }), new Client({ name: 'host', version: '1' })];
    await aliceClient.connect(new StreamableHTTPClientTransport(new URL(keyed.url), { authProvider: alice }));
    await bobClient.connect(new StreamableHTTPClientTransport(new URL(keyed.url), { authProvider: bob }));
    expect([await apiKeySeen(aliceClient), await apiKeySeen(bobClient)]).toEqual(['alice-key-123', 'bob-key-456']);
    await aliceClient.close();
    await bobClient.close();
  }, 120_000);
});

describe("a stdio server: each person's key in their own child's environment (--upstream-credential-env)", () => {
  let envGateway: InProcessGateway;
  const fixture = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-credentials-env-'));
    const [loginSecret, vaultKey] = [join(dir, 'login-secret'), join(dir, 'vault.key')];
    writeFileSync(loginSecret, idp.clientSecret);
    writeFileSync(vaultKey, randomBytes(32).toString('hex'));
    envGateway = await startGateway([
      ...['--port', '0', '--store', 'memory', '--stdio', `"${process.execPath}" ${fixture}`, '--spares', '2'],
      ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', loginSecret],
      ...['--upstream-credentials', 'secret', '--upstream-credential-env', 'EXAMPLE_API_KEY', '--upstream-name', 'local'],
      ...['--secrets-key-file', vaultKey],
    ]);
    idp.serve(`${new URL(envGateway.url).origin}/oauth/callback`);
  }, 60_000);
  afterAll(async () => {
    await envGateway?.kill();
  });

  it("each session's child is started for its person, with their key and nobody else's; one without a key gets no child", async () => {
    const connectPage = `${new URL(envGateway.url).origin}/connections/connect?server=local`;
    const seen = async (login: string): Promise<{ key: string; pid: string }> => {
      const provider = await signInThrough(browser, envGateway.url, login);
      const client = new Client({ name: 'host', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(envGateway.url), { authProvider: provider }));
      const text = async (name: string): Promise<string> =>
        ((await client.callTool({ name: 'env', arguments: { name } })) as { content: { text: string }[] }).content[0]!.text;
      const seenBy = { key: await text('EXAMPLE_API_KEY'), pid: await text('PID') };
      await client.close();
      return seenBy;
    };
    expect(await pasteKey(connectPage, 'alice', 'alice-env-key')).toBe('local is connected');
    expect(await pasteKey(connectPage, 'bob', 'bob-env-key')).toBe('local is connected');
    const [alice, bob] = [await seen('alice'), await seen('bob')];
    expect([alice.key, bob.key]).toEqual(['alice-env-key', 'bob-env-key']);
    expect(alice.pid).not.toBe(bob.pid);
    // Carol has no key: her initialize is refused before any child is started for her.
    const carol = await signInThrough(browser, envGateway.url, 'carol');
    await refusal(
      new Client({ name: 'host', version: '1' }).connect(
        new StreamableHTTPClientTransport(new URL(envGateway.url), { authProvider: carol }),
      ),
    );
    expect(envGateway.output()).not.toContain('alice-env-key');
  }, 120_000);
});

describe("a stdio server: each person's key in a _meta field (--upstream-credential-meta)", () => {
  let stdioGateway: InProcessGateway;
  const fixture = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-credentials-stdio-'));
    const [loginSecret, vaultKey] = [join(dir, 'login-secret'), join(dir, 'vault.key')];
    writeFileSync(loginSecret, idp.clientSecret);
    writeFileSync(vaultKey, randomBytes(32).toString('hex'));
    // Rules that let `meta` on for people who connected this server, `echo` for those who connected one it does not serve.
    const policy = join(dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        default: 'allow',
        rules: [
          { id: 'meta-needs-local', effect: 'allow', tools: ['meta'], requires: ['local'] },
          { id: 'echo-needs-elsewhere', effect: 'allow', tools: ['echo'], requires: ['elsewhere'] },
        ],
      }),
    );
    stdioGateway = await startGateway([
      ...['--port', '0', '--store', 'memory', '--stdio', `"${process.execPath}" ${fixture}`],
      ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', loginSecret],
      ...['--upstream-credentials', 'secret', '--upstream-credential-meta', 'example.com/api-key', '--upstream-name', 'local'],
      ...['--secrets-key-file', vaultKey, '--policy', policy],
    ]);
    idp.serve(`${new URL(stdioGateway.url).origin}/oauth/callback`);
  }, 60_000);
  afterAll(async () => {
    await stdioGateway?.kill();
  });

  it("the child gets the caller's own key in the _meta key of each request; a key the client put there itself is replaced", async () => {
    const provider = await signInThrough(browser, stdioGateway.url, 'alice');
    const { url } = await refusal(
      new Client({ name: 'host', version: '1' }).connect(
        new StreamableHTTPClientTransport(new URL(stdioGateway.url), { authProvider: provider }),
      ),
    );
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url);
      await loginAtProvider(page, 'alice');
      await page.fill('input[name=secret]', 'alice-stdio-key');
      await page.click('button.allow');
      await page.waitForSelector('h1:has-text("local is connected")');
    } finally {
      await context.close();
    }
    const client = new Client({ name: 'host', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(stdioGateway.url), { authProvider: provider }));
    const meta = async (own?: Record<string, unknown>) =>
      JSON.parse(
        ((await client.callTool({ name: 'meta', arguments: {}, ...(own && { _meta: own }) })) as { content: { text: string }[] })
          .content[0]!.text,
      ) as Record<string, unknown>;
    expect((await meta())['example.com/api-key']).toBe('alice-stdio-key');
    expect((await meta({ 'example.com/api-key': 'forged' }))['example.com/api-key']).toBe('alice-stdio-key');
    // The policy's `requires`: a server she has not connected (here: one nobody can) keeps `echo` from her.
    const refused = await client.callTool({ name: 'echo', arguments: { text: 'hi' } }).then(
      () => undefined,
      (error: unknown) => error as McpError,
    );
    // (The SDK rebuilds a -32042 as its UrlElicitationRequiredError, keeping the elicitations of its data.)
    expect(refused).toMatchObject({ code: -32042, data: { elicitations: [] } });
    expect(refused?.message).toContain('This call needs your own account connected first: elsewhere');
    await client.close();
  }, 120_000);
});
