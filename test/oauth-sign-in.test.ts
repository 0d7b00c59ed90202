/**
 * `--auth oauth` end to end, as the clients people use meet it (docs/AUTH.md, "The gateway as
 * the authorization server"): the official SDK client discovers the gateway from a 401,
 * registers (RFC 7591), and a real browser (Debian's chromium) signs in at a real OpenID
 * provider (oidc-provider, its own login form) and consents at the gateway; the client then
 * calls a tool whose upstream (an official SDK server) sees the person. Refresh keeps the MCP
 * session; a refresh token used twice ends its grant; revocation ends access at the next
 * request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionClientTransport } from '../src/client/index.js';
import { launchChromium, seriousViolations } from './helpers/browser.js';
import { bearerInitialize, browserSignIn, loginAtProvider } from './helpers/browser-sign-in.js';
import { freePort } from './helpers/everything.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { TestOAuthClient } from './helpers/oauth-client.js';
import { startOpenIdProvider, type OpenIdProvider } from './helpers/openid-provider.js';
import { openSession, send, toolCall, toolText } from './helpers/mcp-http.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';

const ADMIN = 'oauth-test-admin-token-0123456789';
let idp: OpenIdProvider;
let upstream: ServerProcess;
let gateway: InProcessGateway;
let browser: Browser;
let audit: string;

beforeAll(async () => {
  idp = await startOpenIdProvider();
  idp.people.set('alice', { email: 'alice@example.com', name: 'Alice', groups: ['eng'] });
  idp.people.set('bob', { email: 'bob@example.com', name: 'Bob', groups: ['ops'] });
  const dir = mkdtempSync(join(tmpdir(), 'sg-oauth-'));
  const secretFile = join(dir, 'login-secret');
  audit = join(dir, 'audit.jsonl');
  writeFileSync(secretFile, idp.clientSecret);
  upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort())]);
  gateway = await startGateway([
    ...[
      '--port',
      '0',
      '--store',
      'memory',
      '--upstream',
      upstream.url,
      '--upstream-era',
      'handshake',
      '--admin-token',
      ADMIN,
      '--audit',
      audit,
    ],
    ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', secretFile],
    ...[
      '--registrations-per-hour',
      '1000',
      '--required-scope',
      'mcp',
      '--identity-header',
      'x-user=email',
      '--identity-header',
      'x-groups=groups',
    ],
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

/** The person's browser (helpers/browser-sign-in.ts), in this file's chromium. */
function signIn(url: URL, login: string, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  return browserSignIn(browser, url, login, decision);
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

describe('refresh, reuse and revocation', () => {
  it('SessionClientTransport keeps its MCP session across a refresh; the rotated-out refresh token, used again, ends the grant', async () => {
    const provider = new TestOAuthClient();
    const first = new SessionClientTransport(gateway.url, { authProvider: provider, openStream: false });
    await expect(new Client({ name: 'sg-host', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    await first.finishAuth((await signIn(provider.authorizationUrl!, 'bob')).searchParams.get('code')!);
    const transport = new SessionClientTransport(gateway.url, { authProvider: provider, openStream: false });
    const client = new Client({ name: 'sg-host', version: '1' });
    await client.connect(transport);
    expect(seenHeaders(await client.callTool({ name: 'headers', arguments: {} }))['x-user']).toBe('bob@example.com');
    const session = transport.sessionId;

    // The access token is refused (as when it expires): the client refreshes and goes on in its session.
    const before = provider.tokens()!;
    provider.saveTokens({ ...before, access_token: `${before.access_token.slice(0, -4)}AAAA` });
    expect(seenHeaders(await client.callTool({ name: 'headers', arguments: {} }))['x-user']).toBe('bob@example.com');
    expect(transport.sessionId).toBe(session);
    const after = provider.tokens()!;
    expect(after.refresh_token).not.toBe(before.refresh_token);

    // The old refresh token again (a thief's copy): refused, and every token of the grant with it.
    const reuse = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: before.refresh_token!,
      client_id: provider.clientInformation()!.client_id,
    });
    expect(reuse.status).toBe(400);
    expect(((await reuse.json()) as { error: string }).error).toBe('invalid_grant');
    const refused = await mcpPost(after.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token", error_description="the token was revoked"/);
    const next = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: after.refresh_token!,
      client_id: provider.clientInformation()!.client_id,
    });
    expect(next.status).toBe(400);
    await client.close().catch(() => {});
  }, 60_000);

  it('a refresh asking for more scope is refused and leaves the token usable; revocation (RFC 7009) ends access at the next request', async () => {
    const { client, tokens: first } = await manualSignIn('alice');
    const wider = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: client,
      scope: 'mcp admin',
    });
    expect([wider.status, ((await wider.json()) as { error: string }).error]).toEqual([400, 'invalid_scope']);
    const refreshed = await tokenRequest({
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: client,
      scope: 'mcp',
    });
    expect(refreshed.status).toBe(200);
    const tokens = (await refreshed.json()) as { access_token: string; refresh_token: string };
    expect((await mcpPost(tokens.access_token)).status).toBe(200);
    const revoked = await form('/oauth/revoke', { token: tokens.refresh_token, client_id: client });
    expect(revoked.status).toBe(200);
    expect((await mcpPost(tokens.access_token)).status).toBe(401);
    // Revoking what is unknown is answered 200 too, and says nothing.
    expect((await form('/oauth/revoke', { token: 'never-issued', client_id: client })).status).toBe(200);
  }, 60_000);
});

describe('consent', () => {
  it("is remembered per person and client: the same person's next sign-in for that client asks no more; another person is asked", async () => {
    const client = await register();
    const first = await signIn(authorizeUrl(client, pkce()), 'alice');
    expect(first.searchParams.has('code')).toBe(true);
    const again = await browserSignIn(browser, authorizeUrl(client, pkce()), 'alice', 'remembered');
    expect(again.searchParams.has('code')).toBe(true);
    const other = await signIn(authorizeUrl(client, pkce()), 'bob');
    expect(other.searchParams.has('code')).toBe(true);
  }, 60_000);
});

describe('what is refused', () => {
  it('a code used twice (and the grant it gave ends), a wrong PKCE verifier, another redirect URI, another client', async () => {
    const client = await register();
    const flow = pkce();
    const back = await signIn(authorizeUrl(client, flow), 'alice');
    const code = back.searchParams.get('code')!;
    const redeem = (fields: Record<string, string>) =>
      tokenRequest({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        client_id: client,
        code_verifier: flow.verifier,
        ...fields,
      });
    const errorOf = async (answer: Response) => [answer.status, ((await answer.json()) as { error: string }).error];
    expect(await errorOf(await redeem({ code_verifier: pkce().verifier }))).toEqual([400, 'invalid_grant']);
    expect(await errorOf(await redeem({ redirect_uri: 'http://127.0.0.1:9/elsewhere' }))).toEqual([400, 'invalid_grant']);
    expect(await errorOf(await redeem({ client_id: await register() }))).toEqual([400, 'invalid_grant']);
    expect(await errorOf(await redeem({ resource: 'https://another.example/mcp' }))).toEqual([400, 'invalid_target']);
    const good = await redeem({});
    expect(good.status).toBe(200);
    const tokens = (await good.json()) as { access_token: string };
    expect((await mcpPost(tokens.access_token)).status).toBe(200);
    // The token names the subject, never what the provider said about the person (the client can read it).
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'alice', aud: gateway.url, client_id: client, scope: 'mcp' });
    expect(JSON.stringify(claims)).not.toMatch(/example\.com|groups|eng/);
    expect(await errorOf(await redeem({}))).toEqual([400, 'invalid_grant']);
    expect((await mcpPost(tokens.access_token)).status).toBe(401);
  }, 60_000);

  it('consent refused goes back to the client as access_denied, with its state and our issuer', async () => {
    const client = await register();
    const back = await signIn(authorizeUrl(client, pkce(), { state: 'xyz' }), 'bob', 'deny');
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'access_denied', state: 'xyz', iss: new URL(gateway.url).origin });
    expect(back.searchParams.has('code')).toBe(false);
  }, 60_000);

  it('an authorization request with a redirect URI the client did not register is shown to the person, never redirected', async () => {
    const client = await register();
    const url = authorizeUrl(client, pkce(), { redirect_uri: 'https://attacker.example/cb' });
    const answer = await fetch(url, { redirect: 'manual' });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await answer.text()).toContain('redirect_uri is not one the client registered');
  });

  it('one address makes the gateway fetch at most 60 client metadata documents an hour, whatever their URLs', async () => {
    const pageFor = async (n: number): Promise<string> => {
      const url = new URL('/oauth/authorize', gateway.url);
      url.searchParams.set('client_id', `https://127.0.0.1/client-${n}.json`);
      const answer = await fetch(url, { redirect: 'manual' });
      expect(answer.status).toBe(400);
      return answer.text();
    };
    for (let n = 0; n < 60; n++) expect(await pageFor(n)).toContain('loopback or private');
    expect(await pageFor(60)).toContain('fetched in the last hour');
  });

  it('requests that can go back to the client are answered there: another resource, no PKCE, plain PKCE', async () => {
    const client = await register();
    const errorFor = async (fields: Record<string, string | undefined>) => {
      const answer = await fetch(authorizeUrl(client, pkce(), fields), { redirect: 'manual' });
      expect(answer.status).toBe(303);
      const to = new URL(answer.headers.get('location')!);
      expect(to.origin + to.pathname).toBe(REDIRECT);
      return to.searchParams.get('error');
    };
    expect(await errorFor({ resource: 'https://another.example/mcp' })).toBe('invalid_target');
    expect(await errorFor({ code_challenge: undefined })).toBe('invalid_request');
    expect(await errorFor({ code_challenge_method: 'plain' })).toBe('invalid_request');
    expect(await errorFor({ response_type: 'token' })).toBe('unsupported_response_type');
  });

  it("someone else's browser cannot continue a sign-in: the consent page and the provider's callback are bound to the browser that started it", async () => {
    const client = await register();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(authorizeUrl(client, pkce()).href);
      await loginAtProvider(page, 'alice');
      await page.waitForSelector('button[value=allow]');
      const consentUrl = page.url();
      // The link, opened by another browser (no cookie, or another's): refused, nothing shown.
      const stranger = await fetch(consentUrl);
      expect(stranger.status).toBe(403);
      const other = await browser.newContext();
      const otherPage = await other.newPage();
      const shown = await otherPage.goto(consentUrl);
      expect(shown?.status()).toBe(403);
      await other.close();
      // A forged answer without the page's form token: refused.
      const signInId = new URL(consentUrl).searchParams.get('sign_in')!;
      const forged = await page.request.post(new URL('/oauth/consent', gateway.url).href, {
        form: { sign_in: signInId, form_token: 'guessed', decision: 'allow' },
        maxRedirects: 0,
      });
      expect(forged.status()).toBe(403);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('registration refuses what it cannot honour; metadata names every endpoint', async () => {
    const bad = async (body: unknown) => {
      const answer = await fetch(new URL('/oauth/register', gateway.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return [answer.status, ((await answer.json()) as { error: string }).error];
    };
    expect(await bad({ redirect_uris: ['http://example.com/cb'] })).toEqual([400, 'invalid_redirect_uri']);
    expect(await bad({ redirect_uris: ['javascript:alert(1)'] })).toEqual([400, 'invalid_redirect_uri']);
    expect(await bad({ redirect_uris: ['https://ok.example/cb#frag'] })).toEqual([400, 'invalid_redirect_uri']);
    expect(await bad({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' })).toEqual([
      400,
      'invalid_client_metadata',
    ]);
    expect(await bad({ redirect_uris: [REDIRECT], grant_types: ['client_credentials'] })).toEqual([400, 'invalid_client_metadata']);
    const metadata = (await (await fetch(new URL('/.well-known/oauth-authorization-server', gateway.url))).json()) as Record<
      string,
      unknown
    >;
    const origin = new URL(gateway.url).origin;
    expect(metadata).toMatchObject({
      issuer: origin,
      authorization_endpoint: `${origin}/oauth/authorize`,
      token_endpoint: `${origin}/oauth/token`,
      registration_endpoint: `${origin}/oauth/register`,
      revocation_endpoint: `${origin}/oauth/revoke`,
      jwks_uri: `${origin}/oauth/jwks`,
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
    });
    const resource = (await (await fetch(new URL('/.well-known/oauth-protected-resource/mcp', gateway.url))).json()) as Record<
      string,
      unknown
    >;
    expect(resource['authorization_servers']).toEqual([origin]);
    // A client in a browser may call the token endpoint from its own origin (no cookies are involved).
    const preflight = await fetch(new URL('/oauth/token', gateway.url), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([204, '*']);
    const keys = (await (await fetch(new URL('/oauth/jwks', gateway.url))).json()) as { keys: { d?: string; kid: string }[] };
    expect(keys.keys.length).toBe(3);
    expect(keys.keys.every((key) => key.d === undefined)).toBe(true);
  });
});

describe('withdrawing access', () => {
  it("a person sees the clients they allowed on their own page and withdraws one: its tokens stop at the next request; another person's page is theirs alone", async () => {
    const { client, tokens } = await manualSignIn('bob');
    expect((await mcpPost(tokens.access_token)).status).toBe(200);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(new URL('/oauth/grants', gateway.url).href);
      await loginAtProvider(page, 'bob');
      await page.waitForSelector('h1:has-text("Applications you allowed")');
      expect(await page.textContent('main')).toContain('bob@example.com');
      expect(await seriousViolations(page)).toEqual([]);
      const withdraw = page.locator(`form:has(input[value="${client}"]) button`);
      await withdraw.click();
      await page.waitForSelector('h1:has-text("Applications you allowed")');
      expect(await page.locator(`input[value="${client}"]`).count()).toBe(0);
      // A forged withdrawal without the page's form token, even from the signed-in browser: refused.
      const forged = await page.request.post(new URL('/oauth/grants', gateway.url).href, {
        form: { client_id: 'x', form_token: 'guessed' },
        maxRedirects: 0,
      });
      expect(forged.status()).toBe(403);
    } finally {
      await context.close();
    }
    const refused = await mcpPost(tokens.access_token);
    expect(refused.status).toBe(401);
    const refresh = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client });
    expect(refresh.status).toBe(400);
    // The consent is forgotten too: the next sign-in for that client asks again.
    const again = await signIn(authorizeUrl(client, pkce()), 'bob');
    expect(again.searchParams.has('code')).toBe(true);
  }, 60_000);

  it('an operator looks up what a person allowed in the console and withdraws it there', async () => {
    const { client, tokens } = await manualSignIn('bob');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(new URL('/console/', gateway.url).href);
      await page.getByLabel('Admin token').fill(ADMIN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('link', { name: 'Grants' }).click();
      await page.getByLabel('Issuer').fill(idp.issuer);
      await page.getByLabel('Subject').fill('bob');
      await page.getByRole('button', { name: 'Look up' }).click();
      const entry = page.locator(`li[data-client="${client}"]`);
      await entry.waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await entry.getByRole('button').click();
      await page.getByText(`withdrawn.`).waitFor();
      expect(await page.locator(`li[data-client="${client}"]`).count()).toBe(0);
    } finally {
      await context.close();
    }
    expect((await mcpPost(tokens.access_token)).status).toBe(401);
  }, 60_000);

  it('an operator lists and withdraws what a person allowed through the admin API', async () => {
    const { client, tokens } = await manualSignIn('alice');
    const admin = (method: string, query: string) =>
      fetch(new URL(`/admin/grants?${query}`, gateway.url), { method, headers: { authorization: `Bearer ${ADMIN}` } });
    const person = `issuer=${encodeURIComponent(idp.issuer)}&subject=alice`;
    const listed = (await (await admin('GET', person)).json()) as { grants: { clientId: string; families: string[] }[] };
    const grant = listed.grants.find((entry) => entry.clientId === client);
    expect(grant?.families.length).toBe(1);
    expect((await fetch(new URL(`/admin/grants?${person}`, gateway.url))).status).toBe(401);
    expect((await admin('DELETE', `${person}&client_id=${client}`)).status).toBe(200);
    expect((await admin('DELETE', `${person}&client_id=${client}`)).status).toBe(404);
    expect((await mcpPost(tokens.access_token)).status).toBe(401);
  }, 60_000);
});

describe("the identity provider's own word, asked again", () => {
  let rechecking: InProcessGateway;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-oauth-recheck-'));
    const [secretFile, keyFile] = [join(dir, 'login-secret'), join(dir, 'secrets-key')];
    writeFileSync(secretFile, idp.clientSecret);
    writeFileSync(keyFile, randomBytes(32).toString('hex'));
    // A rule written for the provider's own tokens (its groups claim), unchanged (docs/POLICY.md).
    const policy = join(dir, 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({ default: 'allow', rules: [{ id: 'ops-no-echo', effect: 'deny', claims: { groups: 'ops' }, tools: ['echo'] }] }),
    );
    rechecking = await startGateway([
      ...['--port', '0', '--store', 'memory', '--upstream', upstream.url, '--upstream-era', 'handshake', '--audit', audit],
      ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', secretFile],
      ...['--login-scope', 'openid', '--login-scope', 'email', '--login-scope', 'profile', '--login-scope', 'offline_access'],
      ...['--login-prompt', 'consent', '--secrets-key-file', keyFile, '--login-recheck', '1ms', '--required-scope', 'mcp'],
      ...['--identity-header', 'x-groups=groups', '--policy', policy],
    ]);
    idp.serve(`${new URL(rechecking.url).origin}/oauth/callback`);
  }, 60_000);
  afterAll(async () => {
    await rechecking?.kill();
  });

  it('a refresh asks the provider again: new groups are seen; a person the provider no longer signs in loses the grant', async () => {
    idp.people.set('erin', { email: 'erin@example.com', groups: ['eng'] });
    const { client, tokens } = await manualSignIn('erin', rechecking.url);
    expect((await mcpPost(tokens.access_token, rechecking.url)).status).toBe(200);
    const echo = async (token: string): Promise<string> => {
      const bearer = { authorization: `Bearer ${token}` };
      const session = await openSession(rechecking.url, '2025-11-25', bearer);
      const answer = await send(rechecking.url, {
        body: toolCall('echo', { text: 'hi' }),
        headers: { ...bearer, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
      });
      return answer.text;
    };
    expect(await echo(tokens.access_token)).toContain('"text":"hi"');
    // The provider still signs Erin in: the refresh works (and the provider's own token was rotated there).
    idp.people.set('erin', { email: 'erin@example.com', groups: ['ops'] });
    const first = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client },
      rechecking.url,
    );
    expect(first.status).toBe(200);
    const next = (await first.json()) as { access_token: string; refresh_token: string };
    const bearer = { authorization: `Bearer ${next.access_token}` };
    const session = await openSession(rechecking.url, '2025-11-25', bearer);
    const seen = await send(rechecking.url, {
      body: toolCall('headers', {}),
      headers: { ...bearer, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    });
    expect((JSON.parse(toolText(seen)) as Record<string, string>)['x-groups']).toBe('"ops"');
    // The policy sees the provider's groups as they are now: ops may not echo.
    expect(await echo(next.access_token)).toContain('SG_POLICY_DENIED');
    // Disabled at the provider: the next refresh is refused and the grant ends with it.
    idp.people.set('erin', { email: 'erin@example.com', groups: ['ops'], disabled: true });
    const second = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: next.refresh_token, client_id: client },
      rechecking.url,
    );
    expect([second.status, ((await second.json()) as { error: string }).error]).toEqual([400, 'invalid_grant']);
    expect((await mcpPost(next.access_token, rechecking.url)).status).toBe(401);
    idp.people.delete('erin');
  }, 60_000);
});

// Last: the audit holds what every test above did.
describe('what the audit and the pages show', () => {
  it('every registration, sign-in, consent, grant, refresh, reuse and revocation left an audit line naming client and person, never a token', async () => {
    const lines = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; action?: string; client?: string; person?: string | null });
    const actions = new Set(lines.filter((line) => line.event === 'oauth').map((line) => line.action));
    for (const action of [
      'client.registered',
      'sign-in',
      'consent.granted',
      'consent.refused',
      'token.issued',
      'token.refreshed',
      'refresh.reused',
      'token.revoked',
      'code.reused',
    ])
      expect(actions, action).toContain(action);
    expect(lines.find((line) => line.action === 'token.issued')?.person).toMatch(/@example\.com \(/);
    expect(readFileSync(audit, 'utf8')).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/); // no JWT anywhere
  });

  it('the consent page and the error page pass axe-core, under a CSP that allows no script and no framing', async () => {
    const client = await register();
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(authorizeUrl(client, pkce()).href);
      let consent: Promise<{ headers(): Record<string, string> }> | undefined;
      await loginAtProvider(page, 'alice', () => {
        consent = page.waitForResponse((answer) => answer.url().includes('/oauth/consent'));
      });
      const headers = (await consent!).headers();
      expect(headers['content-security-policy']).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
      expect(headers['content-security-policy']).not.toMatch(/script-src/);
      await page.waitForSelector('button[value=allow]');
      expect(await seriousViolations(page)).toEqual([]);
      await page.goto(new URL('/oauth/authorize?client_id=nobody', gateway.url).href);
      expect(await page.textContent('h1')).toContain('cannot go on');
      expect(await seriousViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});

const REDIRECT = 'http://127.0.0.1:9/callback';

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(40).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function register(base = gateway.url): Promise<string> {
  const answer = await fetch(new URL('/oauth/register', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'sessiongate test host', redirect_uris: [REDIRECT] }),
  });
  expect(answer.status).toBe(201);
  return ((await answer.json()) as { client_id: string }).client_id;
}

function authorizeUrl(
  client: string,
  flow: { challenge: string },
  fields: Record<string, string | undefined> = {},
  base = gateway.url,
): URL {
  const url = new URL('/oauth/authorize', base);
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: client,
    redirect_uri: REDIRECT,
    code_challenge: flow.challenge,
    code_challenge_method: 'S256',
    resource: base,
    scope: 'mcp',
    state: 'st',
    ...fields,
  };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

/** A sign-in by hand (no SDK): registered, signed in by the browser, the code redeemed. */
async function manualSignIn(
  login: string,
  base = gateway.url,
): Promise<{ client: string; tokens: { access_token: string; refresh_token: string } }> {
  const client = await register(base);
  const flow = pkce();
  const code = (await signIn(authorizeUrl(client, flow, {}, base), login)).searchParams.get('code')!;
  const answer = await tokenRequest(
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: client,
      code_verifier: flow.verifier,
    },
    base,
  );
  expect(answer.status).toBe(200);
  return { client, tokens: (await answer.json()) as { access_token: string; refresh_token: string } };
}

function form(path: string, fields: Record<string, string>, base = gateway.url): Promise<Response> {
  return fetch(new URL(path, base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
}

function tokenRequest(fields: Record<string, string>, base = gateway.url): Promise<Response> {
  return form('/oauth/token', fields, base);
}

/** An initialize with `token`. */
function mcpPost(token: string, base = gateway.url): Promise<Response> {
  return bearerInitialize(base, token);
}
