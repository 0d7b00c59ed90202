/**
 * The JWT resource server (sessiongate/auth, docs/AUTH.md) over real sockets, against a real
 * identity provider on loopback (test/helpers/identity-provider.ts): tokens signed by keys jose
 * generated for this run, the key set fetched over HTTP.
 */
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jwtAuthenticator, type JwtAuthenticatorOptions, resourceMetadataUrl } from '../src/auth/index.js';
import { startIdentityProvider, signingKey, type IdentityProvider } from './helpers/identity-provider.js';
import { openSession, send, toolCall } from './helpers/mcp-http.js';
import { startServer, type RunningServer } from './helpers/test-server.js';

const RESOURCE = 'https://mcp.example.com/mcp';
let idp: IdentityProvider;
const servers: RunningServer[] = [];

beforeAll(async () => {
  idp = await startIdentityProvider();
});
afterAll(async () => {
  await idp.close();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function protectedServer(options: Partial<JwtAuthenticatorOptions> = {}): Promise<RunningServer> {
  const server = await startServer({
    authenticate: jwtAuthenticator({
      jwksUri: idp.jwksUri,
      issuers: [idp.issuer],
      audiences: [RESOURCE],
      resourceMetadataUrl: resourceMetadataUrl(RESOURCE),
      ...options,
    }),
  });
  servers.push(server);
  return server;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const call = (url: string, session: string, token: string) =>
  send(url, {
    body: toolCall('echo', { text: 'hi' }),
    headers: { ...bearer(token), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
  });

describe('JWT resource server', () => {
  it('no token: 401 with a challenge naming the resource metadata, and no session is looked up', async () => {
    const { url } = await protectedServer({ requiredScopes: ['mcp:tools'] });
    const attempts: Record<string, string>[] = [{}, { 'mcp-session-id': 'no-such-session' }, { authorization: 'Basic dXNlcjpwYXNz' }];
    for (const headers of attempts) {
      const answer = await send(url, { body: toolCall('echo', { text: 'x' }), headers });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe(
        'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"',
      );
      expect((answer.json as { error: { data: { code: string } } }).error.data.code).toBe('SG_UNAUTHENTICATED');
    }
  });

  it('binds the session to the person: a refreshed token keeps it, another person gets 404', async () => {
    const { url } = await protectedServer();
    const first = await idp.token({ sub: 'alice', aud: RESOURCE });
    const session = await openSession(url, '2025-11-25', bearer(first));
    expect((await call(url, session, first)).status).toBe(200);
    const refreshed = await idp.token({ sub: 'alice', aud: RESOURCE }, { expiresIn: '10m' });
    expect(refreshed).not.toBe(first);
    expect((await call(url, session, refreshed)).status).toBe(200);
    const bob = await idp.token({ sub: 'bob', aud: RESOURCE });
    expect((await call(url, session, bob)).status).toBe(404);
    // The same subject from another accepted issuer is another person.
    const second = 'https://second-issuer.example.com';
    const server = await protectedServer({ issuers: [idp.issuer, second] });
    const aliceHere = await openSession(server.url, '2025-11-25', bearer(first));
    const aliceThere = await new SignJWT({ sub: 'alice', aud: RESOURCE })
      .setProtectedHeader({ alg: 'RS256', kid: idp.keys[0]!.kid })
      .setIssuer(second)
      .setExpirationTime('5m')
      .sign(idp.keys[0]!.privateKey);
    expect((await call(server.url, aliceHere, aliceThere)).status).toBe(404);
  });

  it.each([
    [
      'expired (beyond the clock skew)',
      () => idp.token({ sub: 'alice', aud: RESOURCE }, { expiresIn: Math.floor(Date.now() / 1000) - 120 }),
    ],
    ['wrong audience', () => idp.token({ sub: 'alice', aud: 'https://elsewhere.example.com/mcp' })],
    [
      'wrong issuer',
      () =>
        new SignJWT({ sub: 'alice', aud: RESOURCE })
          .setProtectedHeader({ alg: 'RS256', kid: idp.keys[0]!.kid })
          .setIssuer('https://evil.example.com')
          .setExpirationTime('5m')
          .sign(idp.keys[0]!.privateKey),
    ],
    ['alg none', async () => new UnsecuredJWT({ sub: 'alice', aud: RESOURCE }).setIssuer(idp.issuer).setExpirationTime('5m').encode()],
    ['HS256 keyed with the public key', () => hmacWithPublicKey()],
    [
      'no subject',
      () =>
        new SignJWT({ aud: RESOURCE })
          .setProtectedHeader({ alg: 'RS256', kid: idp.keys[0]!.kid })
          .setIssuer(idp.issuer)
          .setExpirationTime('5m')
          .sign(idp.keys[0]!.privateKey),
    ],
    [
      'a signature of another key under a known kid',
      async () => {
        const stranger = await signingKey('RS256');
        return new SignJWT({ sub: 'alice', aud: RESOURCE })
          .setProtectedHeader({ alg: 'RS256', kid: idp.keys[0]!.kid })
          .setIssuer(idp.issuer)
          .setExpirationTime('5m')
          .sign(stranger.privateKey);
      },
    ],
  ])('%s: 401 invalid_token', async (_name, make) => {
    const { url } = await protectedServer();
    const answer = await send(url, { body: toolCall('echo', { text: 'x' }), headers: bearer(await make()) });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toMatch(
      /^Bearer resource_metadata="[^"]+", error="invalid_token", error_description="[^"]+"$/,
    );
    expect((answer.json as { error: { data: { code: string } } }).error.data.code).toBe('SG_INVALID_TOKEN');
  });

  it('a token without a required scope: 403 insufficient_scope naming the scope (step-up)', async () => {
    const { url } = await protectedServer({ requiredScopes: ['mcp:tools', 'mcp:read'] });
    const answer = await send(url, {
      body: toolCall('echo', { text: 'x' }),
      headers: bearer(await idp.token({ sub: 'alice', aud: RESOURCE, scope: 'mcp:read' })),
    });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(answer.headers.get('www-authenticate')).toContain('scope="mcp:tools mcp:read"');
    const enough = await idp.token({ sub: 'alice', aud: RESOURCE, scope: 'mcp:read mcp:tools other' });
    expect((await send(url, { body: toolCall('echo', { text: 'x' }), headers: bearer(enough) })).status).not.toBe(403);
  });

  it('a key the provider adds after start is fetched when a token names it (and not more often than the cooldown)', async () => {
    const { url } = await protectedServer({ jwksCooldownMs: 200 });
    expect(await openSession(url, '2025-11-25', bearer(await idp.token({ sub: 'alice', aud: RESOURCE })))).toBeTruthy();
    const added = await signingKey('ES256');
    idp.keys.push(added);
    const token = await idp.token({ sub: 'carol', aud: RESOURCE }, { key: added });
    // Within the cooldown of the first fetch the new kid may be refused; past it, it is accepted.
    let status = 0;
    for (let tries = 0; tries < 50 && status !== 200; tries++) {
      status = (
        await send(url, {
          body: {
            jsonrpc: '2.0',
            id: 1,
            method: 'initialize',
            params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
          },
          headers: bearer(token),
        })
      ).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toBe(200);
    // A flood of unknown kids does not make a fetch each.
    const unknown = await signingKey('ES256');
    const tokens = await Promise.all(Array.from({ length: 20 }, () => idp.token({ sub: 'x', aud: RESOURCE }, { key: unknown })));
    const before = idp.fetches;
    const started = Date.now();
    for (const flooded of tokens) await send(url, { body: toolCall('echo', { text: 'x' }), headers: bearer(flooded) });
    // At most one fetch per 200 ms cooldown while they arrive (a loaded machine stretches that), never one per token.
    const windows = 1 + Math.ceil((Date.now() - started) / 200);
    expect(idp.fetches - before).toBeLessThanOrEqual(Math.min(windows, 19));
  });

  it('the key set cannot be fetched: 503 with Retry-After (fail closed), then recovery without a restart', async () => {
    idp.up = false;
    try {
      const { url } = await protectedServer();
      const token = await idp.token({ sub: 'alice', aud: RESOURCE });
      const down = await send(url, { body: toolCall('echo', { text: 'x' }), headers: bearer(token) });
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('10');
      expect((down.json as { error: { data: { code: string } } }).error.data.code).toBe('SG_AUTH_UNAVAILABLE');
      idp.up = true;
      expect(await openSession(url, '2025-11-25', bearer(token))).toBeTruthy();
    } finally {
      idp.up = true;
    }
  });
});

/** The classic confusion attack: HS256 with the provider's public key as the HMAC secret. */
async function hmacWithPublicKey(): Promise<string> {
  const secret = new TextEncoder().encode(JSON.stringify(idp.keys[0]!.publicJwk));
  return new SignJWT({ sub: 'alice', aud: RESOURCE })
    .setProtectedHeader({ alg: 'HS256', kid: idp.keys[0]!.kid })
    .setIssuer(idp.issuer)
    .setExpirationTime('5m')
    .sign(secret);
}
