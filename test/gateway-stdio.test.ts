/**
 * The gateway in front of a stdio MCP server (official SDK over stdio): one child per session,
 * stopped on DELETE, expiry and shutdown; a child killed between requests is replaced with the
 * handshake replayed; a request in flight when its child dies gets an error, never a hang.
 * Children are checked in the process table.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stdioUpstream } from '../src/gateway/upstreams/stdio/stdio-upstream.js';
import { ManualClock } from './helpers/clock.js';
import { readJsonLines, type AuditLine } from './helpers/json-lines.js';
import { childrenRunning, isAlive } from './helpers/processes.js';
import { openSession, ID_REUSE_REFUSED, reuseIdInFlight, send, toolCall } from './helpers/mcp-http.js';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { startGateway, type InProcessGateway } from './helpers/in-process-gateway.js';
import { startServer, type RunningServer } from './helpers/test-server.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/stdio-server.mjs', import.meta.url));
/** A dependency-free stdio server (whoami only) for tests that start many children. */
const TINY = fileURLToPath(new URL('./fixtures/tiny-stdio-server.mjs', import.meta.url));
const running: RunningServer[] = [];
const gateways: { kill(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
  for (const gateway of gateways.splice(0)) await gateway.kill();
});

/** The CLI as a process, stopped after the test even when it fails. */
async function gatewayProcess(args: string[]): Promise<DemoProcess> {
  const started = await startCli(args);
  gateways.push({ kill: () => started.kill('SIGKILL') });
  return started;
}

/** The command's gateway in this process (helpers/in-process-gateway.ts), stopped after the test. */
async function commandGateway(args: string[]): Promise<InProcessGateway> {
  const started = await startGateway(args);
  gateways.push(started);
  return started;
}

const fixtureChildren = (fixture = FIXTURE): number[] => childrenRunning(fixture);

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

async function gateway(options: Parameters<typeof startServer>[0] = {}, spares = 2, fixture = FIXTURE): Promise<RunningServer> {
  const server = await startServer({
    application: stdioUpstream({ command: process.execPath, args: [fixture], spares, killGraceMs: 500, onStderr: () => {} }),
    ...options,
  });
  running.push(server);
  return server;
}

async function connect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'd', version: '1' }, { capabilities: { sampling: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    role: 'assistant',
    model: 'm',
    content: { type: 'text', text: 'yes' },
  }));
  await client.connect(transport);
  return { client, transport };
}

describe('gateway to a stdio upstream', () => {
  it('tools, progress and a server-to-client request through a per-session child; DELETE stops the child', async () => {
    const { url } = await gateway();
    const { client, transport } = await connect(url);
    const pid = Number(text(await client.callTool({ name: 'whoami' })));
    expect(isAlive(pid)).toBe(true);
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'stdio' } }))).toBe('stdio');
    const progress: number[] = [];
    await client.callTool({ name: 'progress' }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    expect(text(await client.callTool({ name: 'ask' }))).toBe('client said yes');
    await transport.terminateSession();
    await expect.poll(() => isAlive(pid)).toBe(false);
    await client.close();
  });

  it('two sessions get two children', async () => {
    const { url } = await gateway();
    const a = await connect(url);
    const b = await connect(url);
    const pids = [text(await a.client.callTool({ name: 'whoami' })), text(await b.client.callTool({ name: 'whoami' }))];
    expect(new Set(pids).size).toBe(2);
    await a.client.close();
    await b.client.close();
  });

  it('a child killed between requests is replaced, the handshake replayed: zero client-visible errors', async () => {
    const stderr: string[] = [];
    const server = await startServer({
      application: stdioUpstream({
        command: process.execPath,
        args: [FIXTURE],
        killGraceMs: 500,
        onStderr: (_tag, line) => stderr.push(line),
      }),
    });
    running.push(server);
    const { url } = server;
    const { client } = await connect(url);
    await client.setLoggingLevel('warning');
    const first = Number(text(await client.callTool({ name: 'whoami' })));
    process.kill(first, 'SIGKILL');
    await expect.poll(() => isAlive(first)).toBe(false);
    const second = Number(text(await client.callTool({ name: 'whoami' })));
    expect(second).not.toBe(first);
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'healed' } }))).toBe('healed');
    // The session-scoped call was replayed into the new child.
    expect(stderr.filter((line) => line === 'level set to warning')).toHaveLength(2);
    await client.close();
  });

  it('a request in flight when its child dies gets a JSON-RPC error, not a hang', async () => {
    const { url } = await gateway();
    const { client } = await connect(url);
    const pid = Number(text(await client.callTool({ name: 'whoami' })));
    // ask waits for the client's sampling answer; the child dies meanwhile.
    client.setRequestHandler(CreateMessageRequestSchema, async () => {
      process.kill(pid, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { role: 'assistant', model: 'm', content: { type: 'text', text: 'late' } };
    });
    const outcome = await client.callTool({ name: 'ask' }).then(
      () => 'result',
      (error: Error) => error.message,
    );
    expect(outcome).toMatch(/upstream process exited/);
    await client.close();
  });

  it('a request id still in flight in the session is refused with 409, the first call unharmed', async () => {
    const { url } = await gateway();
    expect(await reuseIdInFlight(url)).toEqual(ID_REUSE_REFUSED);
  });

  // Each session starts a Node child (~0.3 s of CPU): on a loaded 2-core machine 50 of them one
  // after another took over 30 s, so they are opened five at a time with a budget to match.
  it('idle expiry and cap-free churn leave no child behind (50 sessions, process table checked)', { timeout: 120_000 }, async () => {
    const clock = new ManualClock();
    // The tiny server: the gateway's handling of children is under test, not the SDK's start-up.
    const { url, server } = await gateway({ clock, idleTimeoutMs: 60_000 }, 2, TINY);
    const pids: number[] = [];
    const clients: Client[] = [];
    const open = async (i: number): Promise<void> => {
      const { client, transport } = await connect(url);
      pids.push(Number(text(await client.callTool({ name: 'whoami' }))));
      clients.push(client);
      // Half end by DELETE, half by idle expiry.
      if (i % 2 === 0) await transport.terminateSession();
    };
    for (let batch = 0; batch < 50; batch += 5) await Promise.all([0, 1, 2, 3, 4].map((i) => open(batch + i)));
    clock.advance(61_000);
    await server.sessions.sweep();
    await expect.poll(() => pids.filter(isAlive).length, { timeout: 10_000 }).toBe(0);
    // Only the spares are left.
    expect(fixtureChildren(TINY)).toHaveLength(2);
    for (const client of clients) await client.close().catch(() => {});
  });

  it('shutdown stops session children and the spares', async () => {
    const server = await startServer({
      application: stdioUpstream({ command: process.execPath, args: [FIXTURE], spares: 2, killGraceMs: 500, onStderr: () => {} }),
    });
    const { client } = await connect(server.url);
    const pid = Number(text(await client.callTool({ name: 'whoami' })));
    expect(fixtureChildren().length).toBeGreaterThanOrEqual(3); // the session's child and two spares
    await server.close();
    expect(isAlive(pid)).toBe(false);
    expect(fixtureChildren()).toEqual([]);
    await client.close().catch(() => {});
  });
});

describe('sessiongate --stdio', () => {
  it('serves a stdio server per session, and SIGTERM leaves no child or orphan behind', async () => {
    const started = await gatewayProcess(['--port', '0', '--store', 'memory', '--stdio', `"${process.execPath}" ${FIXTURE}`]);
    const { client, transport } = await connect(started.url);
    const pid = Number(text(await client.callTool({ name: 'whoami' })));
    expect(isAlive(pid)).toBe(true);
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(started.pid)], { encoding: 'utf8' })
      .trim()
      .split(/\s+/)
      .map(Number);
    expect(children).toContain(pid);
    expect(children.length).toBe(3); // the session's child and two spares
    // /metrics counts them as the process table does (issue 35).
    const gauge = async (): Promise<number> => {
      const text = await (await fetch(started.url.replace(/\/mcp$/, '/metrics'))).text();
      return Number(/^sessiongate_stdio_children (\d+)$/m.exec(text)![1]);
    };
    expect(await gauge()).toBe(3);
    await transport.terminateSession();
    await client.close();
    await expect.poll(gauge, { timeout: 10_000 }).toBe(2); // the session's child stopped at DELETE; the spares stay
    expect(await started.kill('SIGTERM')).toBe(0);
    for (const child of children) expect(isAlive(child)).toBe(false);
  });
});

describe('sessiongate --stdio refused late', () => {
  it('a start refused after its spare children were spawned (the store cannot be opened) leaves none behind', async () => {
    // A directory: better-sqlite3 cannot open it as a database file.
    const path = mkdtempSync(join(tmpdir(), 'sg-not-a-file-'));
    const marker = `refused-start-${process.pid}`;
    try {
      const args = [
        '--port',
        '0',
        '--store',
        `sqlite:${path}`,
        '--child-ledger',
        'off',
        '--stdio',
        `${process.execPath} ${TINY} ${marker}`,
      ];
      await expect(startGateway(args)).rejects.toThrow(path);
      await expect.poll(() => childrenRunning(marker), { timeout: 10_000 }).toEqual([]);
    } finally {
      rmSync(path, { recursive: true });
    }
  });
});

describe('sessiongate --stdio --on-cap evict', () => {
  it('past --max-sessions the least recently used session ends: 404, its child stopped, audited with reason cap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-cap-'));
    const audit = join(dir, 'audit.jsonl');
    const args = ['--port', '0', '--store', 'memory', '--stdio', `"${process.execPath}" ${TINY}`, '--max-sessions', '2'];
    // A 2 s idle window: touches land every 200 ms, so "least recently used" is observable.
    const started = await commandGateway([...args, '--idle-timeout', '2s', '--on-cap', 'evict', '--audit', audit]);
    const whoami = async (id: string) => {
      const answer = await send(started.url, {
        body: toolCall('whoami', {}),
        headers: { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
      });
      return { status: answer.status, pid: Number(/"text":"(\d+)"/.exec(answer.text)?.[1]) };
    };
    const first = await openSession(started.url);
    const firstPid = (await whoami(first)).pid;
    const second = await openSession(started.url);
    const secondPid = (await whoami(second)).pid;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await whoami(first)).status).toBe(200); // now the second is the least recently used
    const third = await openSession(started.url);
    expect((await whoami(second)).status).toBe(404);
    expect((await whoami(first)).status).toBe(200);
    expect((await whoami(third)).status).toBe(200);
    await expect.poll(() => isAlive(secondPid)).toBe(false);
    expect(isAlive(firstPid)).toBe(true);
    expect(await started.kill()).toBe(0);
    const ended = readJsonLines<AuditLine>(audit).filter((event) => event.event === 'session.ended');
    expect(ended.map((event) => event.reason)).toEqual(['cap', 'shutdown', 'shutdown']);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('admin API', () => {
  const TOKEN = 'admin-token-0123456789';

  it('refuses a missing or wrong token (401); lists, shows with recent events, and terminates (child stopped)', async () => {
    const started = await commandGateway([
      '--port',
      '0',
      '--store',
      'memory',
      '--admin-token',
      TOKEN,
      '--stdio',
      `"${process.execPath}" ${FIXTURE}`,
    ]);
    const base = started.url.replace(/\/mcp$/, '/admin/sessions');
    const { client, transport } = await connect(started.url);
    const pid = Number(text(await client.callTool({ name: 'whoami' })));
    const id = transport.sessionId!;

    expect((await fetch(base)).status).toBe(401);
    const wrong = await fetch(base, { headers: { authorization: 'Bearer admin-token-0123456780' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(id);

    const auth = { authorization: `Bearer ${TOKEN}` };
    const list = (await (await fetch(`${base}?limit=10`, { headers: auth })).json()) as { sessions: { id: string }[]; next: string | null };
    expect(list.sessions.map((s) => s.id)).toEqual([id]);
    const one = (await (await fetch(`${base}/${id}`, { headers: auth })).json()) as {
      session: { clientInfo: { name: string } };
      recentEvents: { method?: string; name?: string }[];
    };
    expect(one.session.clientInfo.name).toBe('d');
    expect(one.recentEvents.some((e) => e.method === 'tools/call' && e.name === 'whoami')).toBe(true);

    expect((await fetch(`${base}/${id}`, { method: 'DELETE', headers: auth })).status).toBe(200);
    await expect.poll(() => isAlive(pid)).toBe(false);
    expect((await fetch(`${base}/${id}`, { method: 'DELETE', headers: auth })).status).toBe(404);
    await expect(client.callTool({ name: 'whoami' })).rejects.toMatchObject({ code: 404 });
    expect(await started.kill()).toBe(0);
  });

  it('does not exist without --admin-token (404)', async () => {
    const started = await commandGateway([
      '--port',
      '0',
      '--store',
      'memory',
      '--stdio',
      `"${process.execPath}" ${FIXTURE}`,
      '--spares',
      '0',
    ]);
    const response = await fetch(started.url.replace(/\/mcp$/, '/admin/sessions'), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(404);
    expect(await started.kill()).toBe(0);
  });
});
