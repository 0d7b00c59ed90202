/**
 * The gateway in front of an HTTP upstream, over real sockets and processes: the official SDK
 * client downstream, an official SDK McpServer upstream.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { httpUpstream } from '../src/gateway/upstreams/http/http-upstream.js';
import { bindMcpServer } from '../src/server/sdk/sdk-binding.js';
import { readJsonLines, type AuditLine } from './helpers/json-lines.js';
import { startCli, type DemoProcess } from './helpers/demo-process.js';
import { startGateway } from './helpers/in-process-gateway.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';
import { openGetStream, openSession, send, toolCall } from './helpers/mcp-http.js';
import { freePort } from './helpers/redis.js';
import { fixtureServer, type Tally } from './helpers/sdk-fixtures.js';
import { startServer, type RunningServer } from './helpers/test-server.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-gateway-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const servers: RunningServer[] = [];
const processes: { kill(signal?: NodeJS.Signals): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const process of processes.splice(0)) await process.kill('SIGKILL');
});

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

async function upstreamWithFixtures(tally: Tally & { ids?: string[] }): Promise<RunningServer> {
  const server = await startServer({
    application: bindMcpServer((session) => (tally.ids?.push(session.id), fixtureServer(session, tally))),
  });
  servers.push(server);
  return server;
}

async function gatewayTo(url: string, options: Partial<Parameters<typeof httpUpstream>[0]> = {}): Promise<RunningServer> {
  const server = await startServer({ application: httpUpstream({ url, ...options }) });
  servers.push(server);
  return server;
}

describe('gateway to an HTTP upstream (official SDK McpServer)', () => {
  it('tools, progress, a server-to-client request, list_changed, and DELETE reaching the upstream', async () => {
    const tally: Tally & { ids: string[] } = { created: 0, closed: 0, ids: [] };
    const upstream = await upstreamWithFixtures(tally);
    const gateway = await gatewayTo(upstream.url);
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
    const client = new Client({ name: 'downstream', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      role: 'assistant',
      model: 'm',
      content: { type: 'text', text: 'yes' },
    }));
    const listChanged = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await client.connect(transport);

    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'through' } }))).toBe('through');
    const progress: number[] = [];
    await client.callTool({ name: 'progress' }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    expect(text(await client.callTool({ name: 'ask' }))).toBe('client said yes');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await client.callTool({ name: 'grow' });
    await listChanged;

    // The upstream's session id never reaches the client: not as its id, not in any answer.
    expect(tally.ids).toHaveLength(1);
    expect(transport.sessionId).not.toBe(tally.ids[0]);
    expect(JSON.stringify(await client.listTools())).not.toContain(tally.ids[0]);
    expect(await upstream.server.sessions.count()).toBe(1);
    expect(tally.created).toBe(1);
    await transport.terminateSession();
    await expect.poll(() => tally.closed).toBe(1);
    expect(await upstream.server.sessions.count()).toBe(0);
    await client.close();
  });

  it('each downstream session owns exactly one upstream session, and ids are never shared', async () => {
    const tally: Tally = { created: 0, closed: 0 };
    const upstream = await upstreamWithFixtures(tally);
    const gateway = await gatewayTo(upstream.url);
    const clients = await Promise.all(
      [1, 2, 3].map(async () => {
        const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
        const client = new Client({ name: 'd', version: '1' });
        await client.connect(transport);
        await client.callTool({ name: 'count' });
        return { client, transport };
      }),
    );
    expect(tally.created).toBe(3);
    expect(await upstream.server.sessions.count()).toBe(3);
    // Each conversation's state is its own upstream session's.
    for (const { client } of clients) expect(text(await client.callTool({ name: 'count' }))).toBe('2');
    for (const { client } of clients) await client.close();
  });

  it('more sessions than the request pool has connections, each with its upstream GET stream open: all still answered', async () => {
    const upstream = await startServer();
    servers.push(upstream);
    const gateway = await gatewayTo(upstream.url);
    // Each client GET stream makes the gateway open the upstream's, which holds a connection
    // for as long as it lasts; 128 of them used to take every connection of the request pool.
    const sessions: string[] = [];
    const streams: { close(): void }[] = [];
    for (let i = 0; i < 150; i++) {
      const id = await openSession(gateway.url);
      sessions.push(id);
      streams.push(await openGetStream(gateway.url, { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' }));
    }
    await expect.poll(() => new Promise<number>((resolve) => upstream.http.getConnections((_, n) => resolve(n)))).toBeGreaterThan(150);
    const answers = await Promise.all(
      sessions.map((id, i) =>
        send(gateway.url, {
          body: toolCall('echo', { text: `${i}` }, i),
          headers: { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
        }),
      ),
    );
    expect(answers.map((answer) => answer.json)).toEqual(
      sessions.map((_, i) => ({ jsonrpc: '2.0', id: i, result: { content: [{ type: 'text', text: `${i}` }] } })),
    );
    for (const stream of streams) stream.close();
  });

  it('forwards only the configured headers, plus static upstream headers', async () => {
    const seen: Record<string, string | undefined>[] = [];
    const tally: Tally = { created: 0, closed: 0 };
    const app = bindMcpServer((session) => fixtureServer(session, tally));
    const upstream = await startServer({
      application: {
        ...app,
        handle: (request, context) => (
          seen.push({ trace: context.header('x-trace'), auth: context.header('authorization'), key: context.header('x-api-key') }),
          app.handle(request, context)
        ),
      },
    });
    servers.push(upstream);
    const gateway = await gatewayTo(upstream.url, { forwardHeaders: ['x-trace'], upstreamHeaders: { 'x-api-key': 'k1' } });
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url), {
      requestInit: { headers: { 'x-trace': 't-1', authorization: 'Bearer downstream-only' } },
    });
    const client = new Client({ name: 'd', version: '1' });
    await client.connect(transport);
    expect(seen[0]).toEqual({ trace: 't-1', auth: undefined, key: 'k1' });
    await client.close();
  });

  it('the upstream restarted mid-session: zero client-visible errors', async () => {
    const port = await freePort();
    const log = join(dir, 'upstream.log');
    writeFileSync(log, '');
    const first: ServerProcess = await startProcess('sdk-stateful-server.mjs', [String(port), '--log', log]);
    processes.push(first);
    const gateway = await gatewayTo(first.url);
    const client = new Client({ name: 'd', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
    const before = text(await client.callTool({ name: 'whoami' }));
    await first.kill('SIGKILL');
    processes.push(await startProcess('sdk-stateful-server.mjs', [String(port), '--log', log]));
    const errors: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const after = await client.callTool({ name: 'whoami' }).catch((error: unknown) => (errors.push(error), undefined));
      if (after) expect(text(after)).not.toBe(before);
    }
    expect(errors).toEqual([]);
    // One re-initialize upstream, not one per call.
    const initializes = readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"method":"initialize"'));
    expect(initializes).toHaveLength(2);
    await client.close();
  });
  it('the upstream down during a call: the caller is told the cause (not the address), the operator the URL and the cause, once', async () => {
    const port = await freePort();
    const upstream: ServerProcess = await startProcess('sdk-stateful-server.mjs', [String(port)]);
    processes.push(upstream);
    const told: string[] = [];
    const gateway = await gatewayTo(upstream.url, { onError: (error) => told.push((error as Error).message) });
    const client = new Client({ name: 'd', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url)));
    await upstream.kill('SIGKILL');
    for (let i = 0; i < 3; i++) {
      const failure = (await client.callTool({ name: 'whoami' }).catch((error: unknown) => error)) as Error;
      expect(failure.message).toContain('connection refused (is the server running?)');
      expect(failure.message).not.toContain(String(port));
      // Told apart by its stable code, not its words (docs/errors.md).
      expect((failure as Error & { data?: unknown }).data).toEqual({ code: 'SG_UPSTREAM_UNAVAILABLE' });
    }
    expect(told.filter((message) => message.startsWith('upstream '))).toEqual([
      `upstream ${upstream.url}: connection refused (is the server running?); calls to it are answered with an upstream error`,
    ]);
    await client.close();
  });
});

describe('the gateway command', () => {
  it('GET /metrics serves Prometheus metrics fed by the same events as the audit', async () => {
    const gateway = await startGateway(['--port', '0', '--store', 'memory', '--demo-upstream']);
    processes.push(gateway);
    const metricsUrl = gateway.url.replace(/\/mcp$/, '/metrics');
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
    const client = new Client({ name: 'd', version: '1' });
    await client.connect(transport);
    await client.callTool({ name: 'echo', arguments: { text: 'm' } });
    let text = await (await fetch(metricsUrl)).text();
    expect(text).toMatch(/^sessiongate_sessions_live 1$/m);
    expect(text).toMatch(/^sessiongate_sessions_created_total 1$/m);
    expect(text).toMatch(/^sessiongate_requests_total\{method="tools\/call",outcome="result"\} 1$/m);
    expect(text).toMatch(/^sessiongate_request_duration_seconds_count\{method="tools\/call"\} 1$/m);
    await transport.terminateSession();
    text = await (await fetch(metricsUrl)).text();
    expect(text).toMatch(/^sessiongate_sessions_live 0$/m);
    expect(text).toMatch(/^sessiongate_sessions_ended_total\{reason="delete"\} 1$/m);
    await client.close();
  });

  it('--audit writes a JSON line per event and flushes it on SIGTERM', async () => {
    const audit = join(dir, 'cli-audit.jsonl');
    const gateway = await startProcessFromBin(['--port', '0', '--store', 'memory', '--demo-upstream', '--audit', audit]);
    const transport = new StreamableHTTPClientTransport(new URL(gateway.url));
    const client = new Client({ name: 'd', version: '1' });
    await client.connect(transport);
    await client.callTool({ name: 'echo', arguments: { text: 'audited' } });
    await transport.terminateSession();
    await gateway.kill('SIGTERM');
    const events = readJsonLines<AuditLine>(audit);
    expect(events.map((e) => (e.event === 'request' ? `${e.method}:${e.name}` : `${e.event}${e.reason ? ':' + e.reason : ''}`))).toEqual([
      'audit.started',
      'initialize:null',
      'session.created',
      'tools/call:echo',
      'session.ended:delete',
    ]);
    await client.close();
  });

  it('stopped with SIGTERM and restarted on SQLite: the upstream session is kept, not DELETEd', async () => {
    const tally: Tally = { created: 0, closed: 0 };
    const upstream = await upstreamWithFixtures(tally);
    const port = String(await freePort());
    const store = `sqlite:${join(dir, 'graceful.db')}`;
    const start = () => startProcessFromBin(['--port', port, '--store', store, '--upstream', upstream.url]);
    const first = await start();
    const transport = new StreamableHTTPClientTransport(new URL(first.url));
    const client = new Client({ name: 'd', version: '1' });
    await client.connect(transport);
    expect(text(await client.callTool({ name: 'count' }))).toBe('1');
    await first.kill('SIGTERM');
    expect(tally.closed).toBe(0);
    await start();
    expect(text(await client.callTool({ name: 'count' }))).toBe('2');
    expect(tally).toEqual({ created: 1, closed: 0 });
    // A DELETE (the SDK's terminateSession; its close() sends none) does end it upstream.
    await transport.terminateSession();
    await expect.poll(() => tally.closed).toBe(1);
    await client.close();
  });

  it('SIGKILLed and restarted on SQLite: the same session id goes on working', async () => {
    const tally: Tally = { created: 0, closed: 0 };
    const upstream = await upstreamWithFixtures(tally);
    const port = String(await freePort());
    const store = `sqlite:${join(dir, 'gateway.db')}`;
    const audit = join(dir, 'restart-audit.jsonl');
    const start = () => startProcessFromBin(['--port', port, '--store', store, '--upstream', upstream.url, '--audit', audit]);
    const events = () => readJsonLines<AuditLine>(audit);
    const calls = () => events().filter((event) => event.method === 'tools/call');
    const first = await start();
    const transport = new StreamableHTTPClientTransport(new URL(first.url));
    const client = new Client({ name: 'd', version: '1' });
    await client.connect(transport);
    expect(text(await client.callTool({ name: 'count' }))).toBe('1');
    // Written while the process runs, so a SIGKILL right after loses nothing already answered.
    await expect.poll(() => calls().length).toBe(1);
    await first.kill('SIGKILL');
    const second = await start();
    // Continued on the same upstream session (no new one), so its state is intact.
    expect(text(await client.callTool({ name: 'count' }))).toBe('2');
    expect(tally.created).toBe(1);
    // A GET stream opened on the new process brings the upstream's back: list_changed arrives.
    // The SDK client reconnects its own GET stream to the new process too, and one session has
    // one GET stream per process: whichever of the two got it must hear list_changed.
    let sdkHeard: unknown;
    client.setNotificationHandler(ToolListChangedNotificationSchema, (notification) => void (sdkHeard = notification));
    const stream = await openGetStream(second.url, { 'mcp-session-id': transport.sessionId!, 'mcp-protocol-version': '2025-11-25' });
    let heard: unknown;
    for (let n = 0; n < 20 && heard === undefined; n++) {
      await client.callTool({ name: 'grow' });
      heard = stream.status === 200 ? await stream.next(250) : await new Promise((resolve) => setTimeout(() => resolve(sdkHeard), 250));
    }
    // Only the method: when the SDK client's stream got it, its handler sees the notification
    // as the SDK parsed it (no `jsonrpc` member); this assertion once failed that way alone.
    expect(heard).toMatchObject({ method: 'notifications/tools/list_changed' });
    stream.close();
    await transport.terminateSession();
    await client.close();
    // The audit trail spans both processes: one session, created once, both calls answered,
    // ended by the client's DELETE.
    await expect.poll(() => events().filter((event) => event.event === 'session.ended').length).toBe(1);
    const trail = events();
    const tag = trail.find((event) => event.event === 'session.created')!.session;
    expect(trail.filter((event) => event.event === 'session.created')).toHaveLength(1);
    expect(
      calls()
        .filter((event) => event.name === 'count')
        .map((event) => [event.session, event.outcome]),
    ).toEqual([
      [tag, 'result'],
      [tag, 'result'],
    ]);
    expect(trail.find((event) => event.event === 'session.ended')).toMatchObject({ session: tag, reason: 'delete' });
  });
});

/** The CLI as a process, registered for clean-up. */
async function startProcessFromBin(args: string[]): Promise<DemoProcess> {
  const started = await startCli(args);
  processes.push(started);
  return started;
}
