/**
 * `--auth oauth` as deployed (docs/AUTH.md, "The gateway as the authorization server"): real
 * gateway processes, restarted between the steps of a sign-in on SQLite, and two replicas on a
 * real Redis taking turns. The client registers by its metadata document (CIMD) served over
 * https by this test, its certificate trusted through NODE_EXTRA_CA_CERTS. Whatever the gateway
 * keeps (the sign-in under way, the code, the consent, the refresh family, the signing keys)
 * must survive a restart and be seen by every replica; and a token one gateway issued for its
 * resource is refused by another gateway for another resource.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser } from 'playwright-core';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionClientTransport } from '../src/client/index.js';
import { launchChromium } from './helpers/browser.js';
import { bearerInitialize, browserSignIn } from './helpers/browser-sign-in.js';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { freePort } from './helpers/everything.js';
import { TestOAuthClient } from './helpers/oauth-client.js';
import { startOpenIdProvider, type OpenIdProvider } from './helpers/openid-provider.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';
import { startRedis, type RedisServer } from './helpers/redis.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { startTlsServer, type TlsServer } from './helpers/tls-server.js';

/** An MCP host that names itself by a metadata document instead of registering. */
class DocumentClient extends TestOAuthClient {
  constructor(readonly clientMetadataUrl: string) {
    super();
  }
}

let idp: OpenIdProvider;
let upstream: ServerProcess;
let documents: TlsServer;
let browser: Browser;
let secretFile: string;
const running: DemoProcess[] = [];

beforeAll(async () => {
  idp = await startOpenIdProvider();
  idp.people.set('carol', { email: 'carol@example.com', groups: ['eng'] });
  secretFile = join(mkdtempSync(join(tmpdir(), 'sg-oauth-durable-')), 'login-secret');
  writeFileSync(secretFile, idp.clientSecret);
  upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort())]);
  documents = await startTlsServer((req, res) => {
    const id = `${documents.origin}${req.url}`;
    const body = {
      client_id: id,
      client_name: 'Document host',
      redirect_uris: ['http://127.0.0.1:9/callback'],
      token_endpoint_auth_method: 'none',
    };
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(JSON.stringify(body));
  });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  for (const process of running) await process.kill('SIGKILL');
  await browser?.close();
  await documents?.close();
  await upstream?.kill();
  await idp?.close();
});

/** `sessiongate --auth oauth` on `port` and `store`, trusting the document server's certificate. */
async function gatewayProcess(port: number, store: string, extra: string[] = []): Promise<DemoProcess> {
  const started = await startCli(
    [
      ...['--port', String(port), '--store', store, '--upstream', upstream.url, '--upstream-era', 'handshake'],
      ...['--auth', 'oauth', '--login-issuer', idp.issuer, '--login-client-id', idp.clientId, '--login-client-secret-file', secretFile],
      ...['--allow-private-client-documents', '--required-scope', 'mcp', '--identity-header', 'x-user=email', ...extra],
    ],
    { NODE_EXTRA_CA_CERTS: documents.caFile },
  );
  running.push(started);
  return started;
}

const who = (result: unknown): string | undefined =>
  (JSON.parse((result as { content: { text: string }[] }).content[0]!.text) as Record<string, string | undefined>)['x-user'];

describe('the gateway restarted between every step (SQLite)', () => {
  it('a client known by its metadata document signs in, calls, refreshes, and keeps its session across restarts', async () => {
    const port = await freePort();
    const store = `sqlite:${join(mkdtempSync(join(tmpdir(), 'sg-oauth-sqlite-')), 'gateway.db')}`;
    let gateway = await gatewayProcess(port, store);
    idp.serve(`http://127.0.0.1:${port}/oauth/callback`);
    const restart = async (): Promise<void> => {
      expect(await gateway.kill('SIGTERM')).toBe(0);
      gateway = await gatewayProcess(port, store);
    };

    const provider = new DocumentClient(`${documents.origin}/host.json`);
    // This package's client with the SDK's authProvider: it names itself by the document (CIMD).
    const first = new SessionClientTransport(gateway.url, { authProvider: provider, openStream: false });
    await expect(new Client({ name: 'doc-host', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.authorizationUrl?.searchParams.get('client_id')).toBe(`${documents.origin}/host.json`);
    expect(provider.clientInformation()?.client_id).toBe(`${documents.origin}/host.json`);
    // A redirect URI its document does not list: said to the person, never sent there.
    const elsewhere = new URL(provider.authorizationUrl!);
    elsewhere.searchParams.set('redirect_uri', 'https://attacker.example/callback');
    const refused = await fetch(elsewhere, { redirect: 'manual' });
    expect([refused.status, refused.headers.get('location')]).toEqual([400, null]);

    await restart(); // the authorization request is not kept yet: the sign-in starts after this
    const back = await browserSignIn(browser, provider.authorizationUrl!, 'carol', 'allow', 'Document host');
    await restart(); // the code is in the store
    await first.finishAuth(back.searchParams.get('code')!);

    await restart(); // the refresh family and the signing keys are in the store
    const transport = new SessionClientTransport(gateway.url, { authProvider: provider, openStream: false });
    const client = new Client({ name: 'doc-host', version: '1' });
    await client.connect(transport);
    expect(who(await client.callTool({ name: 'headers', arguments: {} }))).toBe('carol@example.com');
    const session = transport.sessionId;

    await restart();
    const held = provider.tokens()!;
    provider.saveTokens({ ...held, access_token: `${held.access_token.slice(0, -4)}AAAA` }); // refused: refresh
    expect(who(await client.callTool({ name: 'headers', arguments: {} }))).toBe('carol@example.com');
    expect(provider.tokens()!.refresh_token).not.toBe(held.refresh_token);
    // The MCP session went on: SQLite kept it, and the upstream's own session with it.
    expect(transport.sessionId).toBe(session);
    await client.close();
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

  it('a sign-in begun at one replica completes at the other; each refuses the tokens of a gateway for another resource', async () => {
    // Two replicas behind one address (a load balancer: the proxy, pointed at one or the other).
    const [portA, portB] = [await freePort(), await freePort()];
    const balancer = await startTcpProxy(`http://127.0.0.1:${portA}/mcp`);
    const publicUrl = balancer.url;
    const a = await gatewayProcess(portA, redis.url, ['--public-url', publicUrl]);
    const b = await gatewayProcess(portB, redis.url, ['--public-url', publicUrl]);
    // Every request of this test's clients on a new connection, so each goes where the balancer points now.
    const fresh = new Agent({ pipelining: 0 });
    const noReuse: typeof fetch = (input, init) => fetch(input, { ...init, dispatcher: fresh } as RequestInit);
    const to = (replica: DemoProcess): void => balancer.retarget(replica.url);
    // The browser keeps its connections: cut them, and it opens new ones (to the replica now pointed at).
    const browserTo = (replica: DemoProcess): void => {
      to(replica);
      balancer.cut();
    };
    idp.serve(`${new URL(publicUrl).origin}/oauth/callback`);
    try {
      const provider = new DocumentClient(`${documents.origin}/replica-host.json`);
      const first = new StreamableHTTPClientTransport(new URL(publicUrl), { authProvider: provider, fetch: noReuse });
      await expect(new Client({ name: 'doc-host', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
      // Authorized at A; the provider's callback and the consent at B; the code redeemed at A; calls at B.
      const back = await browserSignIn(browser, provider.authorizationUrl!, 'carol', 'allow', 'Document host', () => browserTo(b));
      to(a);
      await first.finishAuth(back.searchParams.get('code')!);
      to(b);
      const client = new Client({ name: 'doc-host', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(publicUrl), { authProvider: provider, fetch: noReuse }));
      expect(who(await client.callTool({ name: 'headers', arguments: {} }))).toBe('carol@example.com');
      await client.close();
      const token = provider.tokens()!.access_token;
      to(a);
      expect((await bearerInitialize(publicUrl, token, noReuse)).status).toBe(200);

      // A gateway on the same store for another resource: the same signing keys, yet not its token.
      const other = await gatewayProcess(await freePort(), redis.url);
      const refused = await bearerInitialize(other.url, token);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

      // Revoked at A: refused at B at the next request.
      const revoked = await noReuse(new URL('/oauth/revoke', publicUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: provider.tokens()!.refresh_token!, client_id: provider.clientMetadataUrl }).toString(),
      });
      expect(revoked.status).toBe(200);
      to(b);
      expect((await bearerInitialize(publicUrl, token, noReuse)).status).toBe(401);
    } finally {
      await fresh.close();
      await balancer.close();
    }
  }, 120_000);
});
