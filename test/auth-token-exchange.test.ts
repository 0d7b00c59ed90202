/**
 * `--upstream-token-exchange` (RFC 8693): each person reaches an official SDK server with a token
 * of their own for it, exchanged at a real authorization server on loopback, held per person; the
 * caller's token never goes upstream; a refused exchange is 403 and an unreachable one 503.
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXCHANGE_CLIENT, startAuthorizationServer, type AuthorizationServer } from './helpers/authorization-server.js';
import { runCli, startCli, type DemoProcess } from './helpers/demo-process.js';
import { initializeRequest, openSession, send, toolCall, toolText } from './helpers/mcp-http.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';
import { freePort } from './helpers/redis.js';

let as: AuthorizationServer;
let upstream: ServerProcess;
let gateway: DemoProcess;

beforeAll(async () => {
  as = await startAuthorizationServer();
  upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort())]);
  gateway = await startCli(
    [
      ...['--port', '0', '--store', 'memory', '--upstream', upstream.url, '--upstream-era', 'handshake'],
      ...['--auth', 'jwt', '--jwks-uri', as.jwksUri, '--issuer', as.issuer],
      ...['--upstream-token-exchange', `${as.issuer}/exchange`, '--token-exchange-client-id', EXCHANGE_CLIENT.id],
    ],
    { SESSIONGATE_TOKEN_EXCHANGE_CLIENT_SECRET: EXCHANGE_CLIENT.secret },
  );
}, 30_000);
afterAll(async () => {
  await gateway?.kill();
  await upstream?.kill();
  await as?.close();
});

/** The Authorization header the upstream's tool handler saw, for `person` calling through their own session. */
async function upstreamAuthorization(token: string): Promise<string | undefined> {
  const headers = { authorization: `Bearer ${token}` };
  const session = await openSession(gateway.url, '2025-11-25', headers);
  const answer = await send(gateway.url, {
    body: toolCall('headers', {}),
    headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
  });
  expect(answer.status).toBe(200);
  return (JSON.parse(toolText(answer)) as Record<string, string | undefined>)['authorization'];
}

describe('--upstream-token-exchange', () => {
  it("sends each person's own exchanged token upstream, never theirs, and exchanges once per person", async () => {
    const keys = createRemoteJWKSet(new URL(as.jwksUri));
    const before = as.exchanges;
    const alice = await as.accessToken('alice', gateway.url);
    const first = await upstreamAuthorization(alice);
    const second = await upstreamAuthorization(alice);
    expect(first).toMatch(/^Bearer /);
    expect(first).not.toContain(alice);
    expect(second).toBe(first);
    const { payload } = await jwtVerify(first!.slice('Bearer '.length), keys, { issuer: as.issuer, audience: upstream.url });
    expect(payload.sub).toBe('alice');
    const bob = await upstreamAuthorization(await as.accessToken('bob', gateway.url));
    expect((await jwtVerify(bob!.slice('Bearer '.length), keys, { audience: upstream.url })).payload.sub).toBe('bob');
    expect(as.exchanges).toBe(before + 2);
  });

  it('a refused exchange is 403 for that person; an unreachable token endpoint is 503 with Retry-After', async () => {
    as.refusedExchange.add('carol');
    const carol = await send(gateway.url, {
      body: initializeRequest(),
      headers: { authorization: `Bearer ${await as.accessToken('carol', gateway.url)}` },
    });
    expect(carol.status).toBe(403);
    expect(carol.text).toContain('exchange');
    as.exchangeUp = false;
    try {
      const dave = await send(gateway.url, {
        body: initializeRequest(),
        headers: { authorization: `Bearer ${await as.accessToken('dave', gateway.url)}` },
      });
      expect(dave.status).toBe(503);
      expect(dave.headers.get('retry-after')).toBe('10');
    } finally {
      as.exchangeUp = true;
    }
  });

  it('refuses to start without --auth, without a client secret, or in front of stdio', async () => {
    const exchange = ['--upstream-token-exchange', `${as.issuer}/exchange`, '--token-exchange-client-id', 'x'];
    for (const args of [
      ['--upstream', upstream.url, ...exchange],
      ['--upstream', upstream.url, '--auth', 'jwt', '--jwks-uri', as.jwksUri, '--issuer', as.issuer, ...exchange],
      ['--stdio', 'node x.js', ...exchange],
    ]) {
      const { code, stderr } = await runCli(['--port', '0', '--store', 'memory', ...args]);
      expect(code).toBe(1);
      expect(stderr).toContain('--upstream-token-exchange');
    }
  });
});
