/**
 * `sessiongate --auth jwt` as a process, in front of the bundled demo, against a real identity
 * provider on loopback: the RFC 9728 metadata a client discovers from the challenge, sessions of
 * the person, and a sessionless (2026-07-28) conversation that another person never joins.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { startIdentityProvider, type IdentityProvider } from './helpers/identity-provider.js';
import { openSession, send, toolCall, toolText } from './helpers/mcp-http.js';
import { startProcess } from './helpers/processes.js';
import { freePort } from './helpers/redis.js';

const ADMIN = 'admin-token-0123456789';
let idp: IdentityProvider;
let gateway: InProcessGateway;

beforeAll(async () => {
  idp = await startIdentityProvider();
  gateway = await startGateway([...MEMORY, '--demo-upstream', '--admin-token', ADMIN, ...jwtFlags(), '--required-scope', 'mcp']);
}, 30_000);
afterAll(async () => {
  await gateway?.kill();
  await idp?.close();
});

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
/** A gateway on a free port with sessions in memory. */
const MEMORY = ['--port', '0', '--store', 'memory'];
/** --auth jwt against the test's identity provider. */
const jwtFlags = (): string[] => ['--auth', 'jwt', '--jwks-uri', idp.jwksUri, '--issuer', idp.issuer];

describe('sessiongate --auth jwt', () => {
  it('the challenge leads to RFC 9728 metadata naming the issuer, readable across origins', async () => {
    const refused = await send(gateway.url, { body: toolCall('echo', { text: 'x' }) });
    expect(refused.status).toBe(401);
    const challenge = refused.headers.get('www-authenticate')!;
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)![1]!;
    expect(metadataUrl).toBe(new URL('/.well-known/oauth-protected-resource/mcp', gateway.url).href);
    expect(challenge).toContain('scope="mcp"');
    for (const url of [metadataUrl, new URL('/.well-known/oauth-protected-resource', gateway.url).href]) {
      const answer = await fetch(url, { headers: { origin: 'https://app.example.com' } });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(await answer.json()).toEqual({
        resource: gateway.url,
        authorization_servers: [idp.issuer],
        scopes_supported: ['mcp'],
        bearer_methods_supported: ['header'],
      });
    }
    const preflight = await fetch(metadataUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect((await fetch(new URL('/.well-known/oauth-protected-resource/other', gateway.url))).status).toBe(404);
  });

  it('a token for this gateway opens a session of the person and reaches the upstream; the health check stays open', async () => {
    const alice = await idp.token({ sub: 'alice', aud: gateway.url, scope: 'mcp' });
    const session = await openSession(gateway.url, '2025-11-25', bearer(alice));
    const answer = await send(gateway.url, {
      body: toolCall('echo', { text: 'through' }),
      headers: { ...bearer(alice), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('through');
    const bob = await idp.token({ sub: 'bob', aud: gateway.url, scope: 'mcp' });
    const stolen = await send(gateway.url, {
      body: toolCall('echo', { text: 'x' }),
      headers: { ...bearer(bob), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(stolen.status).toBe(404);
    // A token for another resource is refused here (audience binding).
    const elsewhere = await idp.token({ sub: 'alice', aud: 'https://other.example.com/mcp', scope: 'mcp' });
    expect((await send(gateway.url, { body: toolCall('echo', { text: 'x' }), headers: bearer(elsewhere) })).status).toBe(401);
    expect((await fetch(new URL('/healthz', gateway.url))).status).toBe(200);
  });

  it('sessionless: two people with the same correlation id get two conversations', async () => {
    const call = async (sub: string) => {
      const token = await idp.token({ sub, aud: gateway.url, scope: 'mcp' });
      return send(gateway.url, {
        body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META } },
        headers: {
          ...bearer(token),
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/list',
          'mcp-client-session-id': 'shared-id',
        },
      });
    };
    expect((await call('carol')).status).toBe(200);
    expect((await call('dave')).status).toBe(200);
    expect((await call('carol')).status).toBe(200);
    const listed = (await (await fetch(new URL('/admin/sessions', gateway.url), { headers: bearer(ADMIN) })).json()) as {
      sessions: { principal: string | null; clientSessionId: string | null; identity: { subject: string } | null }[];
    };
    const conversations = listed.sessions.filter((session) => session.clientSessionId === 'shared-id');
    expect(conversations).toHaveLength(2);
    expect(new Set(conversations.map((session) => session.principal)).size).toBe(2);
    expect(conversations.map((session) => session.identity?.subject).sort()).toEqual(['carol', 'dave']);
  });

  it('--metrics-port moves /metrics to a port of its own, unauthenticated, as /healthz stays', async () => {
    const started = await startGateway([...MEMORY, '--demo-upstream', ...jwtFlags(), '--metrics-port', '0']);
    try {
      expect(started.output()).toMatch(/metrics: \S+/);
      const metricsUrl = /metrics: (\S+)/.exec(started.output())![1]!;
      expect(new URL(metricsUrl).port).not.toBe(new URL(started.url).port);
      const scraped = await fetch(metricsUrl);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('sessiongate_sessions_live');
      const elsewhere = await fetch(new URL('/metrics', started.url));
      expect(elsewhere.status).toBe(404);
      const said = ((await elsewhere.json()) as { error: string }).error;
      expect(said).toContain('a port of its own');
      expect(said).not.toContain(new URL(metricsUrl).port);
      expect((await fetch(new URL('/healthz', started.url))).status).toBe(200);
    } finally {
      expect(await started.kill()).toBe(0);
    }
  });

  it('refuses to start without an issuer or a key set, with one line', async () => {
    for (const args of [
      ['--auth', 'jwt', '--jwks-uri', 'http://127.0.0.1:1/jwks', '--demo-upstream'],
      ['--auth', 'jwt', '--issuer', 'https://idp.example.com', '--demo-upstream'],
    ]) {
      const { code, stderr } = await runCli(['--port', '0', '--store', 'memory', ...args]);
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/--issuer|--jwks-uri/);
    }
  });
});

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'auth-test', version: '1.0.0' },
};

describe('what the upstream and the audit trail learn of the caller', () => {
  it('--identity-header reaches an official SDK server (a client copy dropped); the audit and the admin API name the person by --audit-identity-claim, never with token bytes', async () => {
    const port = await freePort();
    const upstream = await startProcess('sdk-stateful-server.mjs', [String(port)]);
    const dir = mkdtempSync(join(tmpdir(), 'sg-auth-audit-'));
    const audit = join(dir, 'audit.jsonl');
    const started = await startGateway([
      ...MEMORY,
      '--upstream',
      upstream.url,
      '--upstream-era',
      'handshake',
      '--audit',
      audit,
      '--audit-identity-claim',
      'email',
      '--admin-token',
      ADMIN,
      ...jwtFlags(),
      '--identity-header',
      'x-user=sub',
      '--identity-header',
      'x-scopes=scope',
      '--identity-header',
      'x-groups=groups',
      '--forward-header',
      'x-user',
    ]);
    try {
      const token = await idp.token({
        sub: 'alice',
        email: 'alice@example.com',
        aud: started.url,
        scope: 'mcp tools',
        azp: 'the-client',
        groups: ['dev', 'admins x', 'say "hi"'],
      });
      const headers = { ...bearer(token), 'x-user': 'mallory' };
      const session = await openSession(started.url, '2025-11-25', headers);
      const answer = await send(started.url, {
        body: toolCall('headers', {}),
        headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
      });
      expect(answer.status).toBe(200);
      const seen = JSON.parse(toolText(answer)) as Record<string, string | undefined>;
      expect([seen['x-user'], seen['x-scopes'], seen['authorization']]).toEqual(['alice', 'mcp tools', undefined]);
      // A list claim as an RFC 8941 List: three groups, not five words.
      expect(seen['x-groups']).toBe('"dev", "admins x", "say \\"hi\\""');

      const listed = (await (await fetch(new URL('/admin/sessions', started.url), { headers: bearer(ADMIN) })).json()) as {
        sessions: { identity: unknown }[];
      };
      const person = { issuer: idp.issuer, subject: 'alice@example.com', clientId: 'the-client', scopes: ['mcp', 'tools'] };
      expect(listed.sessions.map((entry) => entry.identity)).toEqual([person]);

      expect(await started.kill()).toBe(0); // flushes the audit log
      const text = readFileSync(audit, 'utf8');
      for (const part of token.split('.')) expect(text).not.toContain(part);
      const events = text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const call = events.find((event) => event['event'] === 'request' && event['method'] === 'tools/call');
      expect(call?.['identity']).toEqual(person);
      expect(events.find((event) => event['event'] === 'session.created')?.['identity']).toEqual(person);
    } finally {
      await started.kill();
      await upstream.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a client's own identity in _meta never reaches a stdio server, with or without --auth", async () => {
    const fixture = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
    const started = await startGateway([...MEMORY, '--spares', '0', '--stdio', `${process.execPath} ${fixture}`]);
    try {
      const session = await openSession(started.url, '2025-11-25');
      const forged = {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: {
          name: 'caller',
          arguments: {},
          _meta: {
            'dev.sessiongate/identity': { issuer: 'https://idp.example.com', subject: 'admin', clientId: null, scopes: ['all'] },
          },
        },
      };
      const answer = await send(started.url, {
        body: forged,
        headers: { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
      });
      expect((answer.json as { result: { content: { text: string }[] } }).result.content[0]!.text).toBe('null');
    } finally {
      await started.kill();
    }
  });

  it('a stdio server finds the verified caller in _meta of every request', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
    const started = await startGateway([...MEMORY, '--spares', '0', '--stdio', `${process.execPath} ${fixture}`, ...jwtFlags()]);
    try {
      const token = await idp.token({ sub: 'erin', aud: started.url, scope: 'mcp' });
      const session = await openSession(started.url, '2025-11-25', bearer(token));
      const answer = await send(started.url, {
        body: toolCall('caller', {}),
        headers: { ...bearer(token), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
      });
      const text = (answer.json as { result: { content: { text: string }[] } }).result.content[0]!.text;
      expect(JSON.parse(text)).toEqual({ issuer: idp.issuer, subject: 'erin', clientId: null, scopes: ['mcp'] });
    } finally {
      await started.kill();
    }
  });

  it('--identity-header without --auth jwt, or with --stdio, refuses to start', async () => {
    for (const args of [
      ['--demo-upstream', '--identity-header', 'x-user=sub'],
      [
        '--stdio',
        'node x.js',
        '--auth',
        'jwt',
        '--jwks-uri',
        'http://127.0.0.1:1/jwks',
        '--issuer',
        'https://i.example.com',
        '--identity-header',
        'x-user=sub',
      ],
    ]) {
      const { code, stderr } = await runCli(['--port', '0', '--store', 'memory', ...args]);
      expect(code).toBe(1);
      expect(stderr).toContain('--identity-header');
    }
  });
});
