/**
 * Opaque tokens checked by introspection (RFC 7662, sessiongate/auth), against an introspection
 * endpoint run by the test on loopback that authenticates the gateway as a client.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { introspectionAuthenticator, resourceMetadataUrl } from '../src/auth/index.js';
import { runCli, startCli } from './helpers/demo-process.js';
import { openSession, send, toolCall } from './helpers/mcp-http.js';
import { startServer, type RunningServer } from './helpers/test-server.js';

const RESOURCE = 'https://mcp.example.com/mcp';
const CLIENT = { id: 'gateway', secret: 's3cret-for-tests' };
/** What the endpoint says of each token. */
const tokens = new Map<string, Record<string, unknown>>();
let calls = 0;
let up = true;
let endpoint: Server;
let url: string;
const servers: RunningServer[] = [];

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      calls++;
      if (!up) return void res.writeHead(503).end();
      const expected = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return void res.writeHead(401).end();
      const token = new URLSearchParams(body).get('token') ?? '';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tokens.get(token) ?? { active: false }));
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/introspect`;
});
afterAll(() => new Promise<void>((resolve) => endpoint.close(() => resolve())));
afterEach(async () => {
  up = true;
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function protectedServer(secret = CLIENT.secret): Promise<string> {
  const server = await startServer({
    authenticate: introspectionAuthenticator({
      url,
      clientId: CLIENT.id,
      clientSecret: secret,
      resourceMetadataUrl: resourceMetadataUrl(RESOURCE),
      audiences: [RESOURCE],
      requiredScopes: ['mcp'],
      cacheMs: 60_000,
    }),
  });
  servers.push(server);
  return server.url;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const soon = (): number => Math.floor(Date.now() / 1000) + 300;

it('an active token opens a session of its person, asked once and then remembered; another person gets 404', async () => {
  tokens.set('opaque-alice-1', { active: true, sub: 'alice', iss: 'https://as.example.com', aud: RESOURCE, scope: 'mcp', exp: soon() });
  tokens.set('opaque-alice-2', { active: true, sub: 'alice', iss: 'https://as.example.com', aud: RESOURCE, scope: 'mcp', exp: soon() });
  tokens.set('opaque-bob', { active: true, sub: 'bob', iss: 'https://as.example.com', aud: RESOURCE, scope: 'mcp', exp: soon() });
  const server = await protectedServer();
  const before = calls;
  const session = await openSession(server, '2025-11-25', bearer('opaque-alice-1'));
  const call = (token: string) =>
    send(server, {
      body: toolCall('echo', { text: 'x' }),
      headers: { ...bearer(token), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    });
  expect((await call('opaque-alice-1')).status).toBe(200);
  expect(calls - before).toBe(1); // initialize, initialized and the call: one introspection
  expect((await call('opaque-alice-2')).status).toBe(200); // a refreshed token of the same person
  expect((await call('opaque-bob')).status).toBe(404);
});

it.each([
  ['inactive', { active: false }, 401, 'SG_INVALID_TOKEN'],
  [
    'expired',
    { active: true, sub: 'alice', aud: RESOURCE, scope: 'mcp', exp: Math.floor(Date.now() / 1000) - 10 },
    401,
    'SG_INVALID_TOKEN',
  ],
  [
    'for another audience',
    { active: true, sub: 'alice', aud: 'https://other.example.com', scope: 'mcp', exp: soon() },
    401,
    'SG_INVALID_TOKEN',
  ],
  ['without the scope', { active: true, sub: 'alice', aud: RESOURCE, scope: 'read', exp: soon() }, 403, 'SG_INSUFFICIENT_SCOPE'],
])('a token %s is refused', async (name, answer, status, code) => {
  const token = `opaque-${name.replace(/ /g, '-')}`;
  tokens.set(token, answer);
  const server = await protectedServer();
  const refused = await send(server, { body: toolCall('echo', { text: 'x' }), headers: bearer(token) });
  expect(refused.status).toBe(status);
  expect((refused.json as { error: { data: { code: string } } }).error.data.code).toBe(code);
  expect(refused.headers.get('www-authenticate')).toContain('resource_metadata=');
});

it('an endpoint that is down, or refuses our client credentials, fails closed with 503 and Retry-After', async () => {
  tokens.set('opaque-carol', { active: true, sub: 'carol', aud: RESOURCE, scope: 'mcp', exp: soon() });
  up = false;
  const down = await send(await protectedServer(), { body: toolCall('echo', { text: 'x' }), headers: bearer('opaque-carol') });
  expect([down.status, down.headers.get('retry-after')]).toEqual([503, '10']);
  up = true;
  const wrongSecret = await send(await protectedServer('not-the-secret'), {
    body: toolCall('echo', { text: 'x' }),
    headers: bearer('opaque-carol'),
  });
  expect(wrongSecret.status).toBe(503);
  expect(wrongSecret.text).not.toContain('not-the-secret');
});

it('sessiongate --auth introspection: the secret from the environment (no flag shows it), sessions of the person, for this resource only', async () => {
  const args = ['--port', '0', '--store', 'memory', '--demo-upstream', '--auth', 'introspection', '--issuer', 'https://as.example.com'];
  const withEndpoint = [...args, '--introspection-url', url, '--introspection-client-id', CLIENT.id, '--required-scope', 'mcp'];
  const gateway = await startCli(withEndpoint, { SESSIONGATE_INTROSPECTION_CLIENT_SECRET: CLIENT.secret });
  const person = { active: true, iss: 'https://as.example.com', scope: 'mcp', exp: soon() };
  // Without --audience the audience is the gateway's own URL, as with JWTs (docs/AUTH.md).
  tokens.set('opaque-dave', { ...person, sub: 'dave', aud: gateway.url });
  tokens.set('opaque-dave-elsewhere', { ...person, sub: 'dave', aud: 'https://other-resource.example.com/mcp' });
  tokens.set('opaque-dave-nowhere', { ...person, sub: 'dave' });
  try {
    expect(await openSession(gateway.url, '2025-11-25', bearer('opaque-dave'))).toBeTruthy();
    expect((await send(gateway.url, { body: toolCall('echo', { text: 'x' }), headers: bearer('opaque-unknown') })).status).toBe(401);
    for (const token of ['opaque-dave-elsewhere', 'opaque-dave-nowhere']) {
      const refused = await send(gateway.url, { body: toolCall('echo', { text: 'x' }), headers: bearer(token) });
      expect(refused.status, token).toBe(401);
      expect(refused.headers.get('www-authenticate'), token).toContain('aud');
    }
  } finally {
    await gateway.kill();
  }
  const missing = await runCli(withEndpoint);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('SESSIONGATE_INTROSPECTION_CLIENT_SECRET');
});
