/**
 * `--auth oauth` end to end, as the clients people use meet it (docs/AUTH.md, "The gateway as
 * the authorization server"): the official SDK client discovers the gateway from a 401,
 * registers (RFC 7591), and a real browser (Debian's chromium) signs in at a real OpenID
 * provider (oidc-provider, its own login form) and consents at the gateway; the client then
 * calls a tool whose upstream (an official SDK server) sees the person. Refresh keeps the MCP
 * session; a refresh token used twice ends its grant; revocation ends access at the next
 * request.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionClientTransport } from '../src/client/index.js';
import { launchChromium } from './helpers/browser.js';
import { freePort } from './helpers/everything.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { TestOAuthClient } from './helpers/oauth-client.js';
import { startOpenIdProvider, type OpenIdProvider } from './helpers/openid-provider.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';

const ADMIN = 'oauth-test-admin-token-0123456789';
let idp: OpenIdProvider;
let upstream: ServerProcess;
let gateway: InProcessGateway;
let browser: Browser;

beforeAll(async () => {
  idp = await startOpenIdProvider();
  idp.people.set('alice', { email: 'alice@example.com', name: 'Alice', groups: ['eng'] });
  idp.people.set('bob', { email: 'bob@example.com', name: 'Bob', groups: ['ops'] });
  const secretFile = join(mkdtempSync(join(tmpdir(), 'sg-oauth-')), 'login-secret');
  writeFileSync(secretFile, idp.clientSecret);
  upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort())]);
  gateway = await startGateway([
    ...['--port', '0', '--store', 'memory', '--upstream', upstream.url, '--upstream-era', 'handshake', '--admin-token', ADMIN],
    ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', secretFile],
    ...['--required-scope', 'mcp', '--identity-header', 'x-user=email', '--identity-header', 'x-groups=groups'],
  ]);
  idp.serve(`${new URL(gateway.url).origin}/oauth/callback`);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gateway?.kill();
  await upstream?.kill();
  await idp?.close();
});

/**
 * The person's browser: opens the authorization URL, signs in at the provider as `login`,
 * continues past the provider's own consent, answers the gateway's consent; returns where the
 * gateway sent the browser back to (the client's redirect URI, caught before it is loaded).
 */
async function signIn(url: URL, login: string, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    let redirected: (url: URL) => void;
    const back = new Promise<URL>((resolve) => (redirected = resolve));
    await page.route('http://127.0.0.1:9/**', async (route) => {
      redirected(new URL(route.request().url()));
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the client' });
    });
    await page.goto(url.href);
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'any password');
    await page.click('button[type=submit]');
    await page.click('button[type=submit]'); // the provider's own "Continue"
    await page.waitForSelector(`button[value=${decision}]`);
    expect(await page.textContent('h1')).toContain('sessiongate test host');
    await page.click(`button[value=${decision}]`);
    return await back;
  } finally {
    await context.close();
  }
}

const seenHeaders = (result: unknown): Record<string, string | undefined> =>
  JSON.parse((result as { content: { text: string }[] }).content[0]!.text) as Record<string, string | undefined>;

describe('the official SDK client signs in through the gateway', () => {
  it('discovers the gateway from a 401, registers, signs in at the provider, consents, and its calls carry the person upstream', async () => {
    const provider = new TestOAuthClient();
    const first = new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider });
    await expect(new Client({ name: 'sdk-host', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    const origin = new URL(gateway.url).origin;
    expect(provider.authorizationUrl?.origin).toBe(origin);
    expect(provider.clientInformation()?.client_id).toMatch(/^sgc_/);
    expect(provider.authorizationUrl?.searchParams.get('resource')).toBe(gateway.url);

    const back = await signIn(provider.authorizationUrl!, 'alice');
    expect(back.searchParams.get('iss')).toBe(origin);
    expect(back.searchParams.get('state')).toBe(provider.authorizationUrl!.searchParams.get('state'));
    await first.finishAuth(back.searchParams.get('code')!);

    const client = new Client({ name: 'sdk-host', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider }));
    const seen = seenHeaders(await client.callTool({ name: 'headers', arguments: {} }));
    expect([seen['x-user'], seen['x-groups'], seen['authorization']]).toEqual(['alice@example.com', '"eng"', undefined]);
    await client.close();
  }, 60_000);
});
