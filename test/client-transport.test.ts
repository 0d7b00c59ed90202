/**
 * SessionClientTransport under the official SDK Client, over real sockets, against our session
 * server and against the SDK's own stateful server restarted mid-session.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SessionClientTransport } from '../src/client/index.js';
import { bindMcpServer } from '../src/server/sdk/sdk-binding.js';
import { readJsonLines } from './helpers/json-lines.js';
import { freePort } from './helpers/redis.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';
import { fixtureServer, type Tally } from './helpers/sdk-fixtures.js';
import { demoAppSpeaking, startServer, type RunningServer } from './helpers/test-server.js';

const dir = mkdtempSync(join(tmpdir(), 'sg-client-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const servers: RunningServer[] = [];
const processes: ServerProcess[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  for (const process of processes.splice(0)) await process.kill();
});

async function serve(options: Parameters<typeof startServer>[0] = {}, tally: Tally = { created: 0, closed: 0 }): Promise<RunningServer> {
  const server = await startServer({ application: bindMcpServer((session) => fixtureServer(session, tally)), ...options });
  servers.push(server);
  return server;
}

async function sdkStateful(port: number, log: string, extra: string[] = []): Promise<ServerProcess> {
  const started = await startProcess('sdk-stateful-server.mjs', [String(port), '--log', log, ...extra]);
  processes.push(started);
  return started;
}

function text(result: unknown): string {
  return (result as { content: { text: string }[] }).content[0]!.text;
}

describe('against the sessiongate server', () => {
  it('tools, progress, a sampling request, list_changed on the GET stream, and DELETE on close', async () => {
    const tally: Tally = { created: 0, closed: 0 };
    const { url, server } = await serve({}, tally);
    const transport = new SessionClientTransport(url);
    const client = new Client({ name: 'ours', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({
      role: 'assistant',
      model: 'm',
      content: { type: 'text', text: 'yes' },
    }));
    const listChanged = new Promise<void>((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await client.connect(transport);
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(transport.protocolVersion).toBe('2025-11-25');
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    const progress: number[] = [];
    await client.callTool({ name: 'progress' }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    expect(text(await client.callTool({ name: 'ask' }))).toBe('client said yes');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.callTool({ name: 'grow' });
    await listChanged;
    const id = transport.sessionId!;
    await client.close();
    expect(await server.sessions.peek(id)).toBeUndefined();
    expect(tally.closed).toBe(1);
  });

  it('re-initializes transparently after the server expired the session (1 s lifetime; an open GET stream keeps an idle one alive), same correlation id', async () => {
    const { url } = await serve({ maxLifetimeMs: 1000, sweepIntervalMs: 100 });
    const recovered: number[] = [];
    const transport = new SessionClientTransport(url, { onRecovered: ({ recoveries }) => recovered.push(recoveries) });
    const client = new Client({ name: 'ours', version: '1.0.0' });
    await client.connect(transport);
    const first = transport.sessionId;
    const correlation = transport.clientSessionId;
    expect(correlation).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'after expiry' } }))).toBe('after expiry');
    expect(transport.sessionId).not.toBe(first);
    expect(transport.clientSessionId).toBe(correlation);
    expect([transport.recoveries, recovered]).toEqual([1, [1]]);
    await client.close();
  });

  it('parallel calls that all hit the 404 share one re-initialize', async () => {
    const tally: Tally = { created: 0, closed: 0 };
    const { url, server } = await serve({}, tally);
    const transport = new SessionClientTransport(url);
    const client = new Client({ name: 'ours', version: '1.0.0' });
    await client.connect(transport);
    await server.sessions.end(transport.sessionId!, 'admin');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: String(i) } })),
    );
    expect(answers.map(text)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(transport.recoveries).toBe(1);
    expect(tally.created).toBe(2);
    await client.close();
  });

  it('with recover: false the caller gets SessionExpiredError (stable code) and the id is cleared', async () => {
    const { url, server } = await serve();
    const transport = new SessionClientTransport(url, { recover: false });
    const client = new Client({ name: 'ours', version: '1.0.0' });
    await client.connect(transport);
    const id = transport.sessionId!;
    await server.sessions.end(id, 'admin');
    const error = (await client.callTool({ name: 'echo', arguments: { text: 'x' } }).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('SG_CLIENT_SESSION_EXPIRED');
    expect(error.message).not.toContain(id);
    expect(transport.sessionId).toBeUndefined();
    await client.close();
  });

  it('sends the correlation id as header and _meta on every request, and the version header after initialize', async () => {
    const seen: { method: string; header?: string; meta?: string; version?: string }[] = [];
    const tally: Tally = { created: 0, closed: 0 };
    const app = bindMcpServer((session) => fixtureServer(session, tally));
    const { url } = await serve({
      application: {
        ...app,
        handle: (request, context) => {
          const meta = request.params?.['_meta'] as { clientSessionId?: string } | undefined;
          seen.push({
            method: request.method,
            header: context.header('mcp-client-session-id'),
            meta: meta?.clientSessionId,
            version: context.header('mcp-protocol-version'),
          });
          return app.handle(request, context);
        },
      },
    });
    const transport = new SessionClientTransport(url, { clientSessionId: '5f0c6d4e-2b1a-4c3d-8e9f-0a1b2c3d4e5f' });
    const client = new Client({ name: 'ours', version: '1.0.0' });
    await client.connect(transport);
    await client.listTools();
    expect(seen.map((s) => s.method)).toEqual(['initialize', 'tools/list']);
    for (const s of seen) {
      expect(s.header).toBe('5f0c6d4e-2b1a-4c3d-8e9f-0a1b2c3d4e5f');
      expect(s.meta).toBe('5f0c6d4e-2b1a-4c3d-8e9f-0a1b2c3d4e5f');
    }
    expect(seen.map((s) => s.version)).toEqual([undefined, '2025-11-25']);
    await client.close();
  });

  it('clientSessionId: false sends no correlation id', async () => {
    const { url } = await serve();
    const transport = new SessionClientTransport(url, { clientSessionId: false });
    const client = new Client({ name: 'ours', version: '1.0.0' });
    await client.connect(transport);
    expect(transport.clientSessionId).toBeUndefined();
    await client.close();
  });
});

describe('against the SDK stateful server, restarted mid-session', () => {
  it("the SDK's own transport fails after the restart; ours carries on with zero errors and replays session-scoped calls", async () => {
    const port = await freePort();
    const log = join(dir, 'restart.log');
    writeFileSync(log, '');
    const first = await sdkStateful(port, log);
    const url = new URL(first.url);

    const theirs = new Client({ name: 'sdk', version: '1.0.0' });
    await theirs.connect(new StreamableHTTPClientTransport(url));
    const ours = new Client({ name: 'ours', version: '1.0.0' });
    const transport = new SessionClientTransport(url);
    const errors: Error[] = [];
    await ours.connect(transport);
    await ours.setLoggingLevel('warning');
    await ours.subscribeResource({ uri: 'test://watched' });
    const before = text(await ours.callTool({ name: 'whoami' }));

    await first.kill('SIGKILL');
    await sdkStateful(port, log);

    await expect(theirs.callTool({ name: 'whoami' })).rejects.toMatchObject({ code: 404 });
    for (let i = 0; i < 5; i++) {
      const after = await ours.callTool({ name: 'whoami' }).catch((error: Error) => (errors.push(error), ''));
      expect(text(after)).not.toBe(before);
    }
    expect(errors).toEqual([]);
    expect(transport.recoveries).toBe(1);
    // The new process got the handshake and the session-scoped calls replayed.
    const second = readJsonLines(log).filter((line) => line['pid'] !== readJsonLines(log)[0]!['pid']);
    expect(second.filter((line) => line['scoped'])).toEqual([
      expect.objectContaining({ scoped: 'logging/setLevel', level: 'warning' }),
      expect.objectContaining({ scoped: 'resources/subscribe', uri: 'test://watched' }),
    ]);
    await theirs.close();
    await ours.close();
  });

  it('a stateless server (no session id): no header sent, no recovery, a 404 is an ordinary not-found', async () => {
    const port = await freePort();
    const log = join(dir, 'stateless.log');
    writeFileSync(log, '');
    const server = await sdkStateful(port, log, ['--stateless']);
    const transport = new SessionClientTransport(server.url);
    const client = new Client({ name: 'ours', version: '1.0.0' });
    await client.connect(transport);
    expect(transport.sessionId).toBeUndefined();
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'stateless' } }))).toBe('stateless');
    expect(readJsonLines(log).every((line) => line['session'] === 'no')).toBe(true);
    await client.close();
  });

  it('a 404 to a request without a session id is SG_CLIENT_NOT_FOUND, not an expiry', async () => {
    const nowhere = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no such endpoint'));
    await new Promise<void>((resolve) => nowhere.listen(0, '127.0.0.1', resolve));
    const transport = new SessionClientTransport(`http://127.0.0.1:${(nowhere.address() as AddressInfo).port}/mcp`);
    const client = new Client({ name: 'ours', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toMatchObject({ code: 'SG_CLIENT_NOT_FOUND', status: 404 });
    expect(transport.recoveries).toBe(0);
    nowhere.closeAllConnections();
    await new Promise((resolve) => nowhere.close(resolve));
  });

  it('a 2025-03-26 server gets no MCP-Protocol-Version header (C3 starts at 2025-06-18)', async () => {
    const versions: (string | undefined)[] = [];
    const app = demoAppSpeaking('2025-03-26');
    const { url } = await serve({
      application: {
        ...app,
        handle: (request, context) => {
          versions.push(context.header('mcp-protocol-version'));
          return app.handle(request, context);
        },
      },
    });
    const transport = new SessionClientTransport(url);
    const client = new Client({ name: 'ours', version: '1.0.0' });
    await client.connect(transport);
    expect(transport.protocolVersion).toBe('2025-03-26');
    expect(text(await client.callTool({ name: 'echo', arguments: { text: 'old' } }))).toBe('old');
    expect(versions).toEqual([undefined, undefined]);
    await client.close();
  });
});
