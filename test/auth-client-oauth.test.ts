/**
 * The whole OAuth flow, as an MCP host meets it: `sessiongate --auth jwt` in front of the demo,
 * an authorization server made of the official SDK's own server-side pieces, and clients with an
 * `OAuthClientProvider`: the SDK's own transport first (does the gateway's metadata lead a
 * client nobody here wrote through discovery, registration, authorization and token?), then
 * `SessionClientTransport` with the same kind of provider, which must keep its session when its
 * token expires and is refreshed.
 */
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionClientTransport } from '../src/client/index.js';
import { startAuthorizationServer, type AuthorizationServer } from './helpers/authorization-server.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { TestOAuthClient } from './helpers/oauth-client.js';

const ADMIN = 'admin-token-0123456789';
let as: AuthorizationServer;
let gateway: InProcessGateway;

beforeAll(async () => {
  as = await startAuthorizationServer();
  gateway = await startGateway([
    ...['--port', '0', '--store', 'memory', '--demo-upstream', '--admin-token', ADMIN],
    ...['--auth', 'jwt', '--jwks-uri', as.jwksUri, '--issuer', as.issuer, '--required-scope', 'mcp'],
  ]);
}, 30_000);
afterAll(async () => {
  await gateway?.kill();
  await as?.close();
});

const echoed = (result: unknown): string => (result as { content: { text: string }[] }).content[0]!.text;

/** Who the admin API says opened the gateway's sessions. */
async function sessionSubjects(): Promise<(string | undefined)[]> {
  const answer = await fetch(new URL('/admin/sessions', gateway.url), { headers: { authorization: `Bearer ${ADMIN}` } });
  const { sessions } = (await answer.json()) as { sessions: { identity: { subject: string } | null }[] };
  return sessions.map((session) => session.identity?.subject);
}

describe('a client with an OAuthClientProvider, through the gateway', () => {
  it("the official SDK transport discovers the gateway's metadata, registers, is authorized and reaches the upstream", async () => {
    as.user = 'alice';
    const provider = new TestOAuthClient();
    const first = new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider });
    await expect(new Client({ name: 'sdk-host', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    // The SDK found the authorization server through the gateway's challenge and metadata.
    expect(provider.authorizationUrl?.origin).toBe(as.issuer);
    expect(provider.authorizationUrl?.searchParams.get('resource')).toBe(gateway.url);
    expect(provider.authorizationUrl?.searchParams.get('scope')).toBe('mcp');
    await first.finishAuth(await provider.authorize());

    const client = new Client({ name: 'sdk-host', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider }));
    expect(echoed(await client.callTool({ name: 'echo', arguments: { text: 'sdk, authorized' } }))).toBe('sdk, authorized');
    expect(await sessionSubjects()).toContain('alice');
    await client.close();
  });

  it('SessionClientTransport runs the same flow, and keeps its session when its token expires and is refreshed', async () => {
    as.user = 'bob';
    const provider = new TestOAuthClient();
    const first = new SessionClientTransport(gateway.url, { authProvider: provider, openStream: false });
    await expect(new Client({ name: 'sg-host', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    await first.finishAuth(await provider.authorize());

    const transport = new SessionClientTransport(gateway.url, { authProvider: provider, openStream: false });
    const client = new Client({ name: 'sg-host', version: '1' });
    await client.connect(transport);
    expect(echoed(await client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before');
    const session = transport.sessionId;
    expect(session).toBeDefined();

    // An hour later: the access token the host holds has expired; its refresh token has not.
    const held = provider.tokens()!;
    provider.saveTokens({ ...held, access_token: await as.expiredToken('bob', gateway.url) });
    const refreshes = as.refreshes;
    expect(echoed(await client.callTool({ name: 'echo', arguments: { text: 'after' } }))).toBe('after');
    expect(as.refreshes).toBe(refreshes + 1);
    expect(provider.tokens()!.access_token).not.toBe(held.access_token);
    // The same session, not a new one: it belongs to the person, not to the token.
    expect(transport.sessionId).toBe(session);
    expect(transport.recoveries).toBe(0);
    expect(await sessionSubjects()).toContain('bob');
    await client.close();
  });

  it('a 403 insufficient_scope steps up once: refused while the person lacks the scope, through once it is granted', async () => {
    const strict = await startGateway([
      ...['--port', '0', '--store', 'memory', '--demo-upstream'],
      ...['--auth', 'jwt', '--jwks-uri', as.jwksUri, '--issuer', as.issuer, '--required-scope', 'mcp', '--required-scope', 'admin'],
    ]);
    try {
      as.user = 'erin';
      as.allowedScopes.set('erin', ['mcp']);
      const provider = new TestOAuthClient();
      const first = new SessionClientTransport(strict.url, { authProvider: provider, openStream: false });
      await expect(new Client({ name: 'sg-host', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
      expect(provider.authorizationUrl?.searchParams.get('scope')).toBe('mcp admin');
      await first.finishAuth(await provider.authorize());
      // Erin's token lacks admin: the step-up (a refresh) still lacks it, and the 403 is final.
      const refused = await new Client({ name: 'sg-host', version: '1' })
        .connect(new SessionClientTransport(strict.url, { authProvider: provider, openStream: false }))
        .then(
          () => undefined,
          (error: unknown) => error as { status?: number; challenge?: string },
        );
      expect(refused?.status).toBe(403);
      expect(refused?.challenge).toContain('error="insufficient_scope"');
      const refreshes = as.refreshes;
      as.allowedScopes.set('erin', ['mcp', 'admin']);
      const client = new Client({ name: 'sg-host', version: '1' });
      await client.connect(new SessionClientTransport(strict.url, { authProvider: provider, openStream: false }));
      expect(as.refreshes).toBe(refreshes + 1);
      expect(echoed(await client.callTool({ name: 'echo', arguments: { text: 'stepped up' } }))).toBe('stepped up');
      await client.close();
    } finally {
      as.allowedScopes.delete('erin');
      await strict.kill();
    }
  });

  it('without a provider, a 401 is an error with the challenge, for the host to act on', async () => {
    const transport = new SessionClientTransport(gateway.url, { openStream: false });
    const failure = await new Client({ name: 'plain', version: '1' }).connect(transport).then(
      () => undefined,
      (error: unknown) => error as { status?: number; challenge?: string },
    );
    expect(failure?.status).toBe(401);
    expect(failure?.challenge).toContain('resource_metadata=');
  });
});
