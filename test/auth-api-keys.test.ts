/**
 * API keys (A8 of docs/AUTH.md): the library's authenticator, and `sessiongate keys` with a
 * gateway started on the key file it writes, which picks up an added or removed key without a
 * restart.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiKeyAuthenticator, hashApiKey, newApiKey } from '../src/auth/index.js';
import { SessiongateError } from '../src/protocol/failures.js';
import { runCli, startCli } from './helpers/demo-process.js';
import { openSession, send, toolCall } from './helpers/mcp-http.js';

const folder = mkdtempSync(join(tmpdir(), 'sg-keys-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const request = (authorization?: string) => ({ header: (name: string) => (name === 'authorization' ? authorization : undefined) });

/** What `authenticate` threw, as its code and challenge. */
function refusal(run: () => unknown): { code: string; challenge: string | undefined } {
  try {
    run();
  } catch (error) {
    const failure = error as SessiongateError;
    return { code: failure.code, challenge: failure.headers['www-authenticate'] };
  }
  throw new Error('accepted');
}

describe('apiKeyAuthenticator', () => {
  const alice = newApiKey();
  const bob = newApiKey();
  const authenticate = apiKeyAuthenticator({
    keys: [
      { name: 'alice', sha256: alice.sha256, claims: { scope: 'mcp admin', sub: 'mallory' } },
      { name: 'bob', sha256: bob.sha256 },
    ],
    requiredScopes: ['mcp'],
  });

  it('a listed key is its owner, whatever claims the file gives (sub is the name)', () => {
    expect(alice.key).toMatch(/^sgk_[\w-]{43}$/);
    expect(hashApiKey(alice.key)).toBe(alice.sha256);
    const identity = authenticate(request(`Bearer ${alice.key}`));
    expect(identity).toMatchObject({
      principal: JSON.stringify(['sessiongate:api-key', 'alice']),
      claims: { sub: 'alice', scope: 'mcp admin' },
    });
  });

  it('no key: 401 with a bare Bearer challenge (nothing to discover); an unknown key: invalid_token; a key without the scope: 403', () => {
    expect(refusal(() => authenticate(request()))).toEqual({ code: 'SG_UNAUTHENTICATED', challenge: 'Bearer scope="mcp"' });
    const unknown = refusal(() => authenticate(request(`Bearer ${newApiKey().key}`)));
    expect(unknown.code).toBe('SG_INVALID_TOKEN');
    expect(unknown.challenge).toContain('error="invalid_token"');
    expect(unknown.challenge).not.toContain('resource_metadata');
    const scopeless = refusal(() => authenticate(request(`Bearer ${bob.key}`)));
    expect(scopeless.code).toBe('SG_INSUFFICIENT_SCOPE');
    expect(scopeless.challenge).toContain('error="insufficient_scope"');
  });

  it('refuses a key list it cannot trust, at construction', () => {
    expect(() => apiKeyAuthenticator({ keys: [{ name: 'a', sha256: 'not-a-hash' }] })).toThrow(/sha256/);
    expect(() => apiKeyAuthenticator({ keys: [{ name: 'a b', sha256: alice.sha256 }] })).toThrow(/name/);
    expect(() =>
      apiKeyAuthenticator({
        keys: [
          { name: 'a', sha256: alice.sha256 },
          { name: 'b', sha256: alice.sha256 },
        ],
      }),
    ).toThrow(/twice/);
  });
});

describe('sessiongate keys, and --auth api-keys', () => {
  it('a key is printed once and only its hash is kept; the gateway reads added and removed keys without a restart', async () => {
    const file = join(folder, 'keys', 'api-keys.jsonl');
    const added = await runCli(['keys', 'add', 'alice', '--api-keys', file, '--scope', 'mcp']);
    expect(added.code).toBe(0);
    const aliceKey = added.stdout.trim();
    expect(aliceKey).toMatch(/^sgk_/);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(aliceKey.slice(4));
    expect(text).toContain(hashApiKey(aliceKey));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await runCli(['keys', 'add', 'alice', '--api-keys', file])).code).toBe(1);

    const gateway = await startCli(['--port', '0', '--store', 'memory', '--demo-upstream', '--auth', 'api-keys', '--api-keys', file]);
    try {
      const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
      const session = await openSession(gateway.url, '2025-11-25', bearer(aliceKey));
      const call = (key: string) =>
        send(gateway.url, {
          body: toolCall('echo', { text: 'keyed' }),
          headers: { ...bearer(key), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
        });
      expect((await call(aliceKey)).status).toBe(200);
      const noKey = await send(gateway.url, { body: toolCall('echo', { text: 'x' }) });
      expect(noKey.status).toBe(401);
      expect(noKey.headers.get('www-authenticate')).toBe('Bearer');

      const bobKey = (await runCli(['keys', 'add', 'bob', '--api-keys', file])).stdout.trim();
      await expect
        .poll(async () => (await send(gateway.url, { body: toolCall('echo', { text: 'x' }), headers: bearer(bobKey) })).status, {
          timeout: 10_000,
        })
        .not.toBe(401);
      // Bob's key is valid, but the session is Alice's.
      expect((await call(bobKey)).status).toBe(404);

      // A file that turns bad keeps the keys read before.
      const good = readFileSync(file, 'utf8');
      writeFileSync(file, `${good}not json\n`);
      await expect.poll(() => gateway.output(), { timeout: 10_000 }).toContain('kept the keys read before');
      expect((await call(aliceKey)).status).toBe(200);
      writeFileSync(file, good);

      expect((await runCli(['keys', 'remove', 'alice', '--api-keys', file])).code).toBe(0);
      await expect.poll(async () => (await call(aliceKey)).status, { timeout: 10_000 }).toBe(401);
      expect(gateway.output()).not.toContain(aliceKey);
    } finally {
      await gateway.kill();
    }
  });

  it('a bad key file stops the start with its line named', async () => {
    const file = join(folder, 'bad.jsonl');
    writeFileSync(file, '# keys\n{"name":"x","sha256":"12"}\n');
    const { code, stderr } = await runCli([
      '--port',
      '0',
      '--store',
      'memory',
      '--demo-upstream',
      '--auth',
      'api-keys',
      '--api-keys',
      file,
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain('line 2');
  });
});
