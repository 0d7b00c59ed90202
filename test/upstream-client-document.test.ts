/**
 * The gateway known to an upstream's authorization server by the client ID metadata document it
 * publishes (CIMD, MCP authorization 2025-11-25; docs/CREDENTIALS.md, "Connecting"): gateway A,
 * at an https public URL (a TLS front on loopback whose certificate the test made), brokers each
 * person's credentials for server B, a second gateway run as its own process (`--auth oauth`:
 * an authorization server that takes CIMD client ids, allowed loopback documents for the test,
 * trusting the front's certificate through NODE_EXTRA_CA_CERTS). A real browser connects Alice.
 * B fetches A's document over https, checks the redirect URI against it, and issues the grant
 * to the document's URL: nothing is registered.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './helpers/browser.js';
import { loginAtProvider } from './helpers/browser-sign-in.js';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { startOpenIdProvider, type OpenIdProvider } from './helpers/openid-provider.js';
import { startTlsServer, type TlsServer } from './helpers/tls-server.js';

const ADMIN = 'client-document-admin-token-0123456789';
let idpA: OpenIdProvider;
let idpB: OpenIdProvider;
let front: TlsServer;
let gatewayA: InProcessGateway;
let gatewayB: DemoProcess;
let browser: Browser;
let auditB: string;
/** Where the front forwards to (gateway A, once it listens), and what it was asked for. */
let target: URL | undefined;
const asked: string[] = [];

/** The TLS front: every request to gateway A as it came, its answer streamed back. */
function forward(req: IncomingMessage, res: ServerResponse): void {
  asked.push(req.url ?? '');
  if (!target) return void res.writeHead(503).end();
  const upstream = httpRequest(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}

beforeAll(async () => {
  [idpA, idpB, front] = await Promise.all([startOpenIdProvider(), startOpenIdProvider(), startTlsServer(forward)]);
  for (const idp of [idpA, idpB]) idp.people.set('alice', { email: 'alice@example.com' });
  const dir = mkdtempSync(join(tmpdir(), 'sg-client-document-'));
  const [secretA, secretB, vaultKey] = [join(dir, 'a.secret'), join(dir, 'b.secret'), join(dir, 'vault.key')];
  auditB = join(dir, 'b-audit.jsonl');
  writeFileSync(secretA, idpA.clientSecret);
  writeFileSync(secretB, idpB.clientSecret);
  writeFileSync(vaultKey, randomBytes(32).toString('hex'));
  gatewayB = await startCli(
    [
      ...['--port', '0', '--store', 'memory', '--demo-upstream', '--audit', auditB, '--allow-private-client-documents'],
      ...['--auth', 'oauth', '--login-issuer', idpB.issuer, '--login-client-id', idpB.clientId, '--login-client-secret-file', secretB],
    ],
    { NODE_EXTRA_CA_CERTS: front.caFile },
  );
  idpB.serve(`${new URL(gatewayB.url).origin}/oauth/callback`);
  gatewayA = await startGateway([
    ...[
      '--port',
      '0',
      '--store',
      'memory',
      '--upstream',
      gatewayB.url,
      '--upstream-era',
      'handshake',
      '--public-url',
      `${front.origin}/mcp`,
    ],
    ...['--admin-token', ADMIN],
    ...['--auth', 'oauth', '--login-issuer', idpA.issuer, '--login-client-id', idpA.clientId, '--login-client-secret-file', secretA],
    ...['--upstream-credentials', 'oauth', '--upstream-name', 'demo', '--secrets-key-file', vaultKey],
  ]);
  target = new URL(gatewayA.url);
  idpA.serve(`${front.origin}/oauth/callback`);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gatewayA?.kill();
  await gatewayB?.kill();
  await Promise.all([front?.close(), idpA?.close(), idpB?.close()]);
});

const documentUrl = (): string => `${front.origin}/connections/client-metadata.json`;

describe("the gateway's client metadata document", () => {
  it('is published at its https URL, naming itself and the callback', async () => {
    const dispatcher = new Agent({ connect: { ca: front.ca } });
    try {
      const answer = await request(documentUrl(), { dispatcher });
      expect(answer.statusCode).toBe(200);
      expect(await answer.body.json()).toEqual({
        client_id: documentUrl(),
        client_name: 'Sessiongate',
        client_uri: front.origin,
        redirect_uris: [`${front.origin}/connections/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      });
    } finally {
      await dispatcher.close();
    }
  });

  it("is the client id the upstream's authorization server knows the gateway by: a person connects, nothing is registered", async () => {
    const fetchedBefore = asked.filter((path) => path === '/connections/client-metadata.json').length;
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(`${front.origin}/connections/connect?server=demo`);
      await loginAtProvider(page, 'alice'); // at A's identity provider
      await page.click('button.allow'); // A: connect demo
      await loginAtProvider(page, 'alice'); // at B's identity provider
      await page.waitForSelector('button[value=allow]'); // B's consent, naming the document's client
      expect(await page.textContent('h1')).toContain('Sessiongate');
      await page.click('button[value=allow]');
      await page.waitForSelector('h1:has-text("is connected")');
    } finally {
      await context.close();
    }
    expect(asked.filter((path) => path === '/connections/client-metadata.json').length).toBeGreaterThan(fetchedBefore);
    const listed = await fetch(
      `${new URL(gatewayA.url).origin}/admin/connections?issuer=${encodeURIComponent(idpA.issuer)}&subject=alice`,
      { headers: { authorization: `Bearer ${ADMIN}` } },
    );
    expect(((await listed.json()) as { connections: { server: string }[] }).connections.map((c) => c.server)).toEqual(['demo']);
    const oauth = readFileSync(auditB, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line['event'] === 'oauth');
    expect(oauth.map((line) => [line['action'], line['client']])).toEqual(
      expect.arrayContaining([
        ['consent.granted', documentUrl()],
        ['token.issued', documentUrl()],
      ]),
    );
    expect(oauth.some((line) => line['action'] === 'client.registered')).toBe(false);
  }, 120_000);
});
