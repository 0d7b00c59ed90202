/**
 * The package as a user installs it: `npm pack`, the tarball installed with `--omit=dev` in an
 * empty folder, then the CLI run from there and every subpath imported. Dev dependencies are
 * absent, so anything the CLI or a subpath needs at run time but only the repository has fails
 * here (it did: the SDK was a dev dependency).
 *
 * The install skips install scripts: better-sqlite3's would download a prebuilt binary (no
 * network here but the registry) or compile for minutes. The test first checks what a user
 * with an unbuilt driver sees, then copies the repository's own build of the same version (same
 * Node ABI) and runs the gateway on its default SQLite store. The SDK peer range's lower bound
 * is installed over the pinned one and exercised end to end.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const INSTALL_TIMEOUT_MS = 240_000;
let folder: string;
let app: string;

function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 << 20 });
}

/** Runs the installed CLI; resolves with its exit code and output (never rejects). */
function cli(args: string[], timeout = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [join(app, 'node_modules/sessiongate/bin/sessiongate.js'), ...args], { cwd: app, timeout }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === 'number' ? error.code : -1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'sessiongate-pack-'));
  app = join(folder, 'app');
  // --ignore-scripts: `npm pack` would run `prepare` (the build), rewriting dist/ while the
  // other test files start the CLI from it (a half-written module failed one in a CI run).
  // `npm test` builds before the suite.
  const { stdout } = await npm(['pack', '--ignore-scripts', '--pack-destination', folder, '--json'], ROOT);
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  cpSync(join(folder, filename), join(folder, 'sessiongate.tgz'));
  writeFileSync(join(folder, 'package.json'), '{}');
  cpSync(join(folder, 'package.json'), join(app, 'package.json'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await npm(['install', join(folder, 'sessiongate.tgz'), '--omit=dev', '--ignore-scripts'], app);
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('installs no dev-only package, and brings the SDK as a peer', () => {
    for (const name of ['vitest', 'typescript', 'eslint', 'fastify', '@modelcontextprotocol/server-everything']) {
      expect(() => readFileSync(join(app, 'node_modules', name, 'package.json')), name).toThrow();
    }
    expect(readFileSync(join(app, 'node_modules/@modelcontextprotocol/sdk/package.json'), 'utf8')).toContain('"version"');
    // The license package.json names (MIT) ships with it.
    expect(readFileSync(join(app, 'node_modules/sessiongate/LICENSE'), 'utf8')).toContain('MIT License');
  });

  it('every document the README and --help link to ships, and every source map points at a shipped file', async () => {
    const installed = join(app, 'node_modules/sessiongate');
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const help = (await cli(['--help'])).stdout;
    const linked = new Set([...`${readme}\n${help}`.matchAll(/\b(docs\/[\w.-]+\.(?:md|png))/g)].map((match) => match[1]!));
    expect(linked.size).toBeGreaterThan(5);
    for (const doc of linked) expect(existsSync(join(installed, doc)), doc).toBe(true);
    const maps = readdirSync(join(installed, 'dist'), { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(50);
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(installed, 'dist', map), 'utf8')) as { sources: string[] };
      for (const source of sources) expect(existsSync(join(installed, 'dist', dirname(map), source)), `${map}: ${source}`).toBe(true);
    }
  });

  it('`sessiongate --help` runs, and an unbuilt SQLite driver is named with the fix', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--upstream');
    const unbuilt = await cli(['--demo-upstream', '--port', '0']);
    expect(unbuilt.code).toBe(1);
    expect(unbuilt.stderr).toContain('npm rebuild better-sqlite3');
  });

  it('every subpath imports and has its main exports', async () => {
    const script = `
      const expected = {
        'sessiongate': ['SessionManager', 'MemoryStore'],
        'sessiongate/server': ['createSessionServer', 'bindMcpServer'],
        'sessiongate/client': ['SessionClientTransport', 'SessionClient'],
        'sessiongate/gateway': ['httpUpstream', 'stdioUpstream'],
        'sessiongate/store/sqlite': ['SqliteStore'],
        'sessiongate/store/redis': ['RedisStore'],
      };
      const missing = [];
      for (const [path, names] of Object.entries(expected)) {
        const module = await import(path);
        for (const name of names) if (typeof module[name] !== 'function') missing.push(path + ' ' + name);
      }
      console.log(JSON.stringify(missing));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('a missing Redis driver is a one-line error naming the package', async () => {
    rmSync(join(app, 'node_modules/ioredis'), { recursive: true, force: true });
    const result = await cli(['--demo-upstream', '--port', '0', '--store', 'redis://127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('needs the package "ioredis"');
    expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  });

  it('with the driver built, `sessiongate --demo-upstream` serves sessions on its default SQLite store', async () => {
    cpSync(join(ROOT, 'node_modules/better-sqlite3/build'), join(app, 'node_modules/better-sqlite3/build'), { recursive: true });
    await expectDemoServes();
  });

  it(
    'the lower bound of the SDK peer range serves and recovers end to end',
    async () => {
      await npm(['install', '@modelcontextprotocol/sdk@1.24.0', '--ignore-scripts'], app);
      const script = `
      import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
      import { Client } from '@modelcontextprotocol/sdk/client/index.js';
      import { createServer } from 'node:http';
      import { bindMcpServer, createSessionServer } from 'sessiongate/server';
      import { SessionClientTransport } from 'sessiongate/client';
      const version = JSON.parse((await import('node:fs')).readFileSync('node_modules/@modelcontextprotocol/sdk/package.json', 'utf8')).version;
      const sessions = createSessionServer({ application: bindMcpServer(() => {
        const server = new McpServer({ name: 'low', version: '1' });
        server.tool('echo', async () => ({ content: [{ type: 'text', text: 'ok' }] }));
        return server;
      }) });
      const http = createServer((req, res) => void sessions.node(req, res));
      await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
      const client = new Client({ name: 'c', version: '1' });
      await client.connect(new SessionClientTransport('http://127.0.0.1:' + http.address().port + '/mcp'));
      const result = await client.callTool({ name: 'echo', arguments: {} });
      await client.close();
      http.closeAllConnections();
      http.close();
      await sessions.close();
      console.log(JSON.stringify({ version, text: result.content[0].text }));`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app, timeout: 20_000 });
      expect(JSON.parse(stdout)).toEqual({ version: '1.24.0', text: 'ok' });
    },
    INSTALL_TIMEOUT_MS,
  );
});

/** Starts the installed CLI on the demo, initializes over HTTP, and stops it. */
async function expectDemoServes(): Promise<void> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [join(app, 'node_modules/sessiongate/bin/sessiongate.js'), '--demo-upstream', '--port', '0'], {
    cwd: app,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (\S+)/.exec(output);
        if (match) resolve(match[1]!);
      });
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
    });
    expect(output).toContain('sqlite:.sessiongate/sessions.db');
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('mcp-session-id')).toMatch(/\S{20,}/);
  } finally {
    child.kill('SIGKILL');
  }
}
