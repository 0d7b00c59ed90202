/**
 * The `sessiongate` command as a real process: flags, health, durability across kill -9.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { initializeRequest, openSession, send, toolCall } from './helpers/mcp-http.js';
import { runCli, startCli, startDemo, type DemoProcess } from './helpers/demo-process.js';
import { rawPost } from './helpers/raw-http.js';
import { startRedis } from './helpers/redis.js';
import { freePort, startEverythingHttp } from './helpers/everything.js';
import { stdioUpstream, stdioUpstreamSchema } from '../src/gateway/upstreams/stdio/stdio-upstream.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const running: DemoProcess[] = [];
afterEach(async () => {
  for (const demo of running.splice(0)) await demo.kill('SIGKILL');
});

async function demo(args: string[] = []): Promise<DemoProcess> {
  const started = await startDemo(args);
  running.push(started);
  return started;
}

describe('sessiongate demo', () => {
  it('serves /healthz (200) and the demo tools on /mcp', async () => {
    const { url } = await demo();
    expect((await fetch(url.replace('/mcp', '/healthz'))).status).toBe(200);
    expect((await fetch(url.replace('/mcp', '/other'))).status).toBe(404);
    const id = await openSession(url);
    const whoami = await send(url, { body: toolCall('whoami', {}), headers: { 'mcp-session-id': id } });
    expect(whoami.json).toMatchObject({ result: { content: [{ text: expect.stringMatching(/^\d+$/) }] } });
  });

  it('a session on SQLite survives kill -9: a new process on the same file accepts the same id', async () => {
    const store = `sqlite:${join(dir, 'restart.db')}`;
    const first = await demo(['--store', store]);
    const id = await openSession(first.url);
    const before = await send(first.url, { body: toolCall('whoami', {}), headers: { 'mcp-session-id': id } });
    expect(await first.kill('SIGKILL')).toBeNull();
    const second = await demo(['--store', store]);
    const after = await send(second.url, { body: toolCall('whoami', {}), headers: { 'mcp-session-id': id } });
    expect(after.status).toBe(200);
    expect(after.json).not.toEqual(before.json); // served by another process
    expect((await send(second.url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': 'D'.repeat(32) } })).status).toBe(
      404,
    );
  });

  it('a session bound to a credential stays bound across a restart (the hashing key is in the store)', async () => {
    const store = `sqlite:${join(dir, 'principal.db')}`;
    const first = await demo(['--store', store]);
    const id = await openSession(first.url, '2025-11-25', { authorization: 'Bearer alice' });
    await first.kill('SIGKILL');
    const second = await demo(['--store', store]);
    expect(
      (await send(second.url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': id, authorization: 'Bearer alice' } }))
        .status,
    ).toBe(200);
    expect(
      (await send(second.url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': id, authorization: 'Bearer bob' } }))
        .status,
    ).toBe(404);
  });

  it('two processes on one Redis serve each other sessions', async () => {
    const redis = await startRedis();
    try {
      const a = await demo(['--store', redis.url]);
      const b = await demo(['--store', redis.url]);
      const id = await openSession(a.url);
      expect((await send(b.url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': id } })).status).toBe(200);
      expect((await send(b.url, { method: 'DELETE', headers: { 'mcp-session-id': id } })).status).toBe(204);
      // A learns of the end over Redis pub/sub (its record cache drops the entry as the message
      // arrives): a request racing that message may still be served, so A is asked until it
      // says 404, within the bound the record cache promises (README, replicas).
      const deadline = Date.now() + 500;
      let status = 0;
      while (status !== 404 && Date.now() < deadline) {
        status = (await send(a.url, { body: toolCall('echo', { text: 'x' }), headers: { 'mcp-session-id': id } })).status;
        if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(status).toBe(404);
    } finally {
      await redis.stop();
    }
  });

  it('applies the session flags: --max-sessions caps with 503, --idle-timeout expires', async () => {
    const { url } = await demo(['--max-sessions', '1', '--idle-timeout', '300ms']);
    await openSession(url);
    expect((await send(url, { body: initializeRequest() })).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await send(url, { body: initializeRequest() })).status).toBe(200);
  });

  it('applies --max-body (413) and --allowed-origins (403)', async () => {
    const { url } = await demo(['--max-body', '1kb', '--allowed-origins', 'https://app.example']);
    expect((await send(url, { rawBody: JSON.stringify({ pad: 'x'.repeat(2000) }) })).status).toBe(413);
    expect((await send(url, { body: initializeRequest(), headers: { origin: 'http://localhost:1' } })).status).toBe(403);
    expect((await send(url, { body: initializeRequest(), headers: { origin: 'https://app.example' } })).status).toBe(200);
  });

  it('on loopback it refuses a DNS-rebound Host (403) and serves loopback names', async () => {
    const { url } = await demo();
    const port = new URL(url).port;
    expect(
      (await rawPost(url, { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` }, initializeRequest())).status,
    ).toBe(403);
    expect((await rawPost(url, { host: `localhost:${port}` }, initializeRequest())).status).toBe(200);
  });

  it('--allowed-hosts replaces the loopback default', async () => {
    const { url } = await demo(['--allowed-hosts', 'mcp.example.com']);
    expect((await rawPost(url, { host: 'mcp.example.com' }, initializeRequest())).status).toBe(200);
    expect((await rawPost(url, { host: `localhost:${new URL(url).port}` }, initializeRequest())).status).toBe(403);
  });

  it('SIGTERM lets a call under way finish, then exits 0', async () => {
    const started = await demo();
    const id = await openSession(started.url);
    const call = send(started.url, {
      body: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slow', arguments: { ms: 800 } } },
      headers: { 'mcp-session-id': id },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = started.kill('SIGTERM');
    const answer = await call;
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('waited 800 ms');
    expect(await exited).toBe(0);
    // New connections are refused meanwhile and afterwards.
    await expect(fetch(started.url.replace('/mcp', '/healthz'))).rejects.toThrow();
  });

  it('exits 0 on SIGTERM', async () => {
    const started = await demo();
    expect(await started.kill('SIGTERM')).toBe(0);
  });
});

describe('configuration sources', () => {
  it('a --config file sets flags; a flag beats the file; an environment variable beats the file', async () => {
    const config = join(dir, 'gateway.json');
    writeFileSync(config, JSON.stringify({ 'demo-upstream': true, store: 'memory', 'max-sessions': 1, 'idle-timeout': '5m' }));
    const fromFile = await startGatewayProcess(['--port', '0', '--config', config]);
    await openSession(fromFile.url);
    expect((await send(fromFile.url, { body: initializeRequest() })).status).toBe(503);
    expect(fromFile.output()).toContain('idle timeout 5m');

    const flagWins = await startGatewayProcess(['--port', '0', '--config', config, '--max-sessions', '2']);
    await openSession(flagWins.url);
    expect((await send(flagWins.url, { body: initializeRequest() })).status).toBe(200);

    const envWins = await startGatewayProcess(['--port', '0', '--config', config], { SESSIONGATE_IDLE_TIMEOUT: '7m' });
    expect(envWins.output()).toContain('idle timeout 7m');
  });

  it('an unknown setting or a bad value in the config file exits 1 with one line naming it', async () => {
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ 'idle-timout': '5m' }));
    let result = await runCli(['--config', unknown]);
    expect([result.code, result.stderr.trim().split('\n').length]).toEqual([1, 1]);
    expect(result.stderr).toContain('"idle-timout"');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ 'idle-timeout': 'soon' }));
    result = await runCli(['--config', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"idle-timeout"');
  });
});

async function startGatewayProcess(args: string[], env: Record<string, string> = {}): Promise<DemoProcess> {
  const started = await startCli(args, env);
  running.push(started);
  return started;
}

describe('bad flags', () => {
  it.each([
    [['demo', '--idle-timeout', '30'], '--idle-timeout'],
    [['demo', '--max-lifetime', 'soon'], '--max-lifetime'],
    [['demo', '--max-sessions', '-1'], '--max-sessions'],
    [['demo', '--max-sessions-per-principal', '1.5'], '--max-sessions-per-principal'],
    [['demo', '--store', 'postgres://x'], '--store'],
    [['demo', '--port', '70000'], '--port'],
    [['demo', '--max-body', '4 lots'], '--max-body'],
    [['demo', '--allowed-origins', 'not a url'], '--allowed-origins'],
    [['demo', '--allowed-hosts', 'a b'], '--allowed-hosts'],
    [['demo', '--on-cap', 'drop'], '--on-cap'],
    [['demo', '--frobnicate'], '--frobnicate'],
    [['--upstream', 'ftp://example.com/mcp'], '--upstream'],
    [['--port', '0', '--forward-header', 'bad header'], '--forward-header'],
    [['--port', '0', '--upstream-header', 'no-colon'], '--upstream-header'],
    [['--port', '0'], '--upstream'],
    [['--spares', '65'], '--spares'],
  ])('%j exits non-zero with one line naming %s', async (args, flag) => {
    const { code, stderr } = await runCli(args);
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(flag);
  });

  it("a flag that feeds a library option is refused in the library option's own words", async () => {
    const { code, stderr } = await runCli(['--spares', '65']);
    expect(code).not.toBe(0);
    expect(stderr).toContain(`"65": ${stdioUpstreamSchema.spares.must}, got 65`);
    expect(() => stdioUpstream({ command: 'x', args: [], spares: 65 })).toThrow(`"spares" ${stdioUpstreamSchema.spares.must}, got 65`);
  });

  it('--auth oauth refuses to start without what it needs, a secrets key of the wrong size, and a login parameter the protocol owns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-cli-oauth-'));
    const [secret, key] = [join(dir, 'secret'), join(dir, 'key')];
    writeFileSync(secret, 's3cret');
    writeFileSync(key, 'too short');
    const base = ['--port', '0', '--store', 'memory', '--demo-upstream', '--auth', 'oauth'];
    const login = ['--login-issuer', 'http://127.0.0.1:1', '--login-client-id', 'gateway', '--login-client-secret-file', secret];
    let result = await runCli([...base, '--login-issuer', 'http://127.0.0.1:1']);
    expect([result.code, result.stderr]).toEqual([1, expect.stringContaining('--auth oauth needs --login-issuer and --login-client-id')]);
    result = await runCli([...base, ...login, '--secrets-key-file', key]);
    expect([result.code, result.stderr]).toEqual([1, expect.stringContaining('must be 32 bytes')]);
    result = await runCli([...base, ...login, '--login-param', 'redirect_uri=https://evil.example/']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--login-param cannot set redirect_uri');
  });

  it('--upstream-credentials refuses to start without a gateway that signs people in or a vault key, or beside another upstream token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-cli-credentials-'));
    const [secret, key] = [join(dir, 'secret'), join(dir, 'key')];
    writeFileSync(secret, 's3cret');
    writeFileSync(key, 'ab'.repeat(32));
    const base = ['--port', '0', '--store', 'memory', '--demo-upstream'];
    const oauth = [
      '--auth',
      'oauth',
      '--login-issuer',
      'http://127.0.0.1:1',
      '--login-client-id',
      'gateway',
      '--login-client-secret-file',
      secret,
    ];
    const cases: [string[], string][] = [
      [[...base, '--upstream-credentials', 'oauth', '--secrets-key-file', key], '--upstream-credentials oauth needs --auth oauth'],
      [[...base, ...oauth, '--upstream-credentials', 'oauth'], '--upstream-credentials oauth needs --secrets-key-file'],
      [[...base, ...oauth, '--upstream-client-id', 'x'], '--upstream-client-id needs --upstream-credentials'],
      [
        [...base, ...oauth, '--upstream-credentials', 'oauth', '--secrets-key-file', key, '--forward-header', 'authorization'],
        '--forward-header authorization would send another',
      ],
      [
        ['--port', '0', '--store', 'memory', '--stdio', 'node', ...oauth, '--upstream-credentials', 'oauth', '--secrets-key-file', key],
        '--upstream-credentials oauth needs an HTTP --upstream',
      ],
      [
        ['--port', '0', '--store', 'memory', '--stdio', 'node', ...oauth, '--upstream-credentials', 'secret', '--secrets-key-file', key],
        'needs one of --upstream-credential-meta KEY',
      ],
    ];
    for (const [args, said] of cases) {
      const result = await runCli(args);
      expect([result.code, result.stderr]).toEqual([1, expect.stringContaining(said)]);
    }
  });

  it('an unreachable upstream exits non-zero with one line', async () => {
    const { code, stderr } = await runCli(['--port', '0', '--store', 'memory', '--upstream', 'http://127.0.0.1:1/mcp']);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('connection refused to http://127.0.0.1:1/mcp');
  });

  it('a SQLite file that cannot be opened exits non-zero with one line naming its path', async () => {
    // A directory: better-sqlite3 says only "unable to open database file".
    const path = mkdtempSync(join(tmpdir(), 'sg-not-a-file-'));
    const { code, stderr } = await runCli(['demo', '--port', '0', '--store', `sqlite:${path}`]);
    rmSync(path, { recursive: true });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(path);
  });

  it('the start-up summary shows durations as written and the stdio command with its arguments', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
    const command = `${process.execPath} ${fixture}`;
    const gateway = await startCli(['--port', '0', '--store', 'memory', '--spares', '0', '--idle-timeout', '30m', '--stdio', command]);
    try {
      expect(gateway.output()).toContain('idle timeout 30m');
      expect(gateway.output()).not.toContain('1800000');
      expect(gateway.output()).toContain(command);
    } finally {
      await gateway.kill();
    }
  });

  it('an unreachable Redis exits non-zero with one line', async () => {
    const { code, stderr } = await runCli(['demo', '--port', '0', '--store', 'redis://127.0.0.1:1']);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('cannot reach Redis');
  });
});

describe("a newcomer's first hour (issue 35)", () => {
  it('API keys: before any exists the gateway says how to add one; `keys list` names them, never a key or its hash', async () => {
    const file = join(dir, 'keys', 'api-keys.jsonl');
    const before = await runCli(['--demo-upstream', '--port', '0', '--store', 'memory', '--auth', 'api-keys', '--api-keys', file]);
    expect(before.code).toBe(1);
    expect(before.stderr.trim()).toBe(`error: there is no API key file at ${file} yet: add a key with \`sessiongate keys add NAME\``);
    expect((await runCli(['keys', 'list', '--api-keys', file])).stderr).toContain('sessiongate keys add NAME');
    const added = await runCli(['keys', 'add', 'ci-bot', '--api-keys', file, '--scope', 'read', '--scope', 'write']);
    const key = added.stdout.trim();
    await runCli(['keys', 'add', 'alice', '--api-keys', file]);
    const listed = await runCli(['keys', 'list', '--api-keys', file]);
    expect(listed.code).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('\t')[0]),
    ).toEqual(['ci-bot', 'alice']);
    expect(listed.stdout).toContain('scopes: read write');
    const json = await runCli(['keys', 'list', '--api-keys', file, '--json']);
    expect(JSON.parse(json.stdout.split('\n')[0]!)).toMatchObject({ name: 'ci-bot', scopes: ['read', 'write'] });
    expect(listed.stdout + json.stdout).not.toContain(key);
    expect(listed.stdout + json.stdout).not.toMatch(/sha256|[0-9a-f]{64}/);
  });

  it('the summary names the console (or how to turn it on), and /console/ without a token says how', async () => {
    const off = await startCli(['--port', '0', '--store', 'memory', '--demo-upstream']);
    running.push(off);
    // Printed after the health line startCli waits for.
    await expect.poll(() => off.output()).toContain('console: off (set SESSIONGATE_ADMIN_TOKEN to turn it on)');
    const page = await fetch(off.url.replace(/\/mcp$/, '/console/'));
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('start the gateway with an admin token (SESSIONGATE_ADMIN_TOKEN=');
    const on = await startCli(['--port', '0', '--store', 'memory', '--demo-upstream'], {
      SESSIONGATE_ADMIN_TOKEN: 'cli-test-admin-token-0123456789',
    });
    running.push(on);
    await expect.poll(() => on.output()).toContain(`console: ${on.url.replace(/\/mcp$/, '/console/')}`);
  });

  it('--demo-upstream-port sets the demo server port; one in use is a one-line error', async () => {
    const port = await freePort();
    const gateway = await startCli(['--port', '0', '--store', 'memory', '--demo-upstream', '--demo-upstream-port', String(port)]);
    running.push(gateway);
    expect(gateway.output()).toContain(`bundled demo at http://127.0.0.1:${port}/mcp`);
    const taken = await runCli(['--port', '0', '--store', 'memory', '--demo-upstream', '--demo-upstream-port', String(port)]);
    expect(taken.code).toBe(1);
    expect(taken.stderr.trim()).toBe(`error: --demo-upstream-port ${port} is in use`);
  });

  it('a policy naming people under --auth none is warned about at start-up', async () => {
    const policy = join(dir, 'people.json');
    writeFileSync(
      policy,
      JSON.stringify({
        default: 'deny',
        rules: [
          { id: 'alice-echo', effect: 'allow', subjects: ['alice'], tools: ['echo'] },
          { id: 'everyone-whoami', effect: 'allow', tools: ['whoami'] },
        ],
      }),
    );
    const gateway = await startCli(['--port', '0', '--store', 'memory', '--demo-upstream', '--policy', policy]);
    running.push(gateway);
    expect(gateway.output()).toContain('--auth none, so every caller is anonymous, yet rules name people (alice-echo)');
    expect(gateway.output()).not.toContain('everyone-whoami)');
  });

  it('`policy explain` refuses a repeated --tool, or two calls at once', async () => {
    const policy = join(dir, 'explain.json');
    writeFileSync(policy, JSON.stringify({ default: 'allow', rules: [] }));
    const twice = await runCli(['policy', 'explain', policy, '--tool', 'a', '--tool', 'b']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('--tool is given twice (a, b)');
    const both = await runCli(['policy', 'explain', policy, '--tool', 'a', '--resource', 'file:///x']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('name one call: --tool and --resource were both given');
  });

  it('an upstream of the deprecated HTTP+SSE transport (server-everything sse) is named as such, not as a wrong path', async () => {
    const sse = await startEverythingHttp(undefined, 'sse');
    try {
      const { code, stderr } = await runCli(['--port', '0', '--store', 'memory', '--upstream', sse.url]);
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(`the upstream at ${sse.url} speaks the deprecated HTTP+SSE transport`);
    } finally {
      await sse.kill();
    }
  });
});
