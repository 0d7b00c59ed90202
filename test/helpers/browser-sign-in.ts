/**
 * A person signing in through the gateway with a real browser: opens the authorization URL,
 * signs in at the OpenID provider (helpers/openid-provider.ts) as `login`, continues past the
 * provider's own consent, answers the gateway's consent (unless it remembers one: `consent:
 * 'remembered'`), and returns where the gateway sent the browser back to: the client's
 * redirect URI on 127.0.0.1:9, caught before it is loaded.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { TestOAuthClient } from './oauth-client.js';
import { seriousViolations } from './browser.js';

export async function browserSignIn(
  browser: Browser,
  url: URL,
  login: string,
  decision: 'allow' | 'deny' | 'remembered' = 'allow',
  clientName = 'sessiongate test host',
  /** Runs while the browser is at the provider's login form (a test switching replicas). */
  atProvider: () => void = () => {},
): Promise<URL> {
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
    atProvider();
    await loginAtProvider(page, login);
    if (decision === 'remembered') return await back;
    await page.waitForSelector(`button[value=${decision}]`);
    expect(await page.textContent('h1')).toContain(clientName);
    await page.click(`button[value=${decision}]`);
    return await back;
  } finally {
    await context.close();
  }
}

/** At the provider's login form: signs in as `login` and continues past the provider's own consent. */
export async function loginAtProvider(page: Page, login: string, beforeContinue: () => void = () => {}): Promise<void> {
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any password');
  await page.click('button[type=submit]');
  beforeContinue();
  await page.click('button[type=submit]'); // the provider's own "Continue"
}

/** An MCP initialize carrying `token` (the request a gateway with --auth checks first). */
export function bearerInitialize(url: string, token: string, send: typeof fetch = fetch): Promise<Response> {
  return send(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
}

/**
 * `login` signed in through the gateway at `url` as the official SDK client does it: refused
 * (401), registered, signed in in the browser, the code redeemed. The auth provider holding the
 * person's tokens.
 */
export async function signInThrough(browser: Browser, url: string, login: string): Promise<TestOAuthClient> {
  const provider = new TestOAuthClient();
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  await new Client({ name: 'host', version: '1' }).connect(transport).catch(() => undefined);
  await transport.finishAuth((await browserSignIn(browser, provider.authorizationUrl!, login)).searchParams.get('code')!);
  return provider;
}

/** What the client is told when it cannot go on without a connection: the URL-elicitation error's data. */
export async function refusal(attempt: Promise<unknown>): Promise<{ code: number; url: string }> {
  const error = await attempt.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(McpError);
  const { code, data } = error as McpError;
  const elicitations = (data as { elicitations: { mode: string; url: string; elicitationId: string }[] }).elicitations;
  expect(elicitations[0]).toMatchObject({ mode: 'url', elicitationId: expect.stringMatching(/^[\w-]{22}$/) });
  return { code, url: elicitations[0]!.url };
}

/**
 * In a fresh browser: opens `url` (the gateway's connect page), signs in at the gateway's
 * identity provider as `login`, presses Connect, signs in at the upstream's authorization server
 * as `upstreamLogin`, and returns the page it ends on.
 */
export async function connectThrough(
  browser: Browser,
  url: string,
  login: string,
  upstreamLogin = login,
): Promise<{ title: string; page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await loginAtProvider(page, login);
  await page.click('button.allow');
  await loginAtProvider(page, upstreamLogin);
  await page.waitForSelector('h1');
  return { title: (await page.textContent('h1')) ?? '', page, close: () => context.close() };
}

/** In a fresh browser: signs in as `login` at the connect page `url`, pastes `key`, and returns the heading it ends on. */
export async function pasteKeyThrough(browser: Browser, url: string, login: string, key: string): Promise<string> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    await loginAtProvider(page, login);
    expect(await seriousViolations(page)).toEqual([]);
    await page.fill('input[name=secret]', key);
    await page.click('button.allow');
    await page.waitForSelector('h1');
    return (await page.textContent('h1')) ?? '';
  } finally {
    await context.close();
  }
}
